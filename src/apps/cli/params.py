"""Parameter types shared by the apps' command lines; each refuses bad input in one line."""

from __future__ import annotations

import codecs
import os
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import click

from domain.dataset import DatasetRef
from domain.metadata.timestamps import parse_instant

FC = TypeVar("FC", bound=Callable[..., Any])

MAX_INPUT_VARIABLE = "DATAPLATFORM_MAX_INPUT_MB"
DEFAULT_MAX_INPUT_MB = 256
_CHUNK = 1 << 20


class SubjectType(click.ParamType[DatasetRef]):
    """A dataset reference written namespace::name."""

    name = "SUBJECT"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, DatasetRef):
            return value
        try:
            return DatasetRef.parse(value)
        except ValueError as invalid:
            self.fail(str(invalid), param, ctx)


class UtcDateTime(click.ParamType[datetime]):
    """An ISO-8601 instant with an offset, normalised to UTC."""

    name = "TIMESTAMP"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, datetime):
            return value
        try:
            return parse_instant(value)
        except ValueError as invalid:
            self.fail(str(invalid), param, ctx)


class TimeZoneName(click.ParamType[str]):
    """An IANA time zone name (Europe/Berlin, UTC)."""

    name = "ZONE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            self.fail(
                f"{value!r} is not an IANA time zone; use a name like UTC or Europe/Berlin",
                param,
                ctx,
            )
        return value


@attrs.frozen
class InputText:
    """A whole input, read within the size limit and decoded as UTF-8."""

    name: str
    text: str


def max_input_bytes() -> int:
    configured = os.environ.get(MAX_INPUT_VARIABLE, "")
    megabytes = int(configured) if configured.isdigit() and int(configured) > 0 else None
    return (megabytes or DEFAULT_MAX_INPUT_MB) << 20


def decode_utf8(name: str, data: bytes) -> str:
    """``data`` as text, or ValueError naming the encoding problem and the fix."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    convert = f"convert it first: iconv -f {{}} -t UTF-8 {name} > {name}.utf8"
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) or (
        len(data) >= 2 and data[0] != 0 and data[1] == 0
    ):
        raise ValueError(f"{name}: is UTF-16 text, expected UTF-8; {convert.format('UTF-16')}")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise ValueError(
            f"{name}: binary data (a NUL byte at offset {nul}), expected UTF-8 JSON or JSONL text"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as bad:
        line = data.count(b"\n", 0, bad.start) + 1
        column = bad.start - (data.rfind(b"\n", 0, bad.start) + 1) + 1
        raise ValueError(
            f"{name}: not UTF-8 (byte 0x{data[bad.start]:02X} at line {line}, column {column}); "
            + convert.format("LATIN1")
        ) from None


def _read_bounded(stream: BinaryIO, name: str, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            return b"".join(chunks)
        if size == 0 and b"\x00" in chunk[:4096] and not chunk.startswith(codecs.BOM_UTF16_LE):
            # Binary input (or /dev/zero): say so now instead of reading it to the limit.
            decode_utf8(name, chunk[:4096])
        size += len(chunk)
        if size > limit:
            raise ValueError(
                f"{name}: larger than {limit >> 20} MiB, the most one command reads at once; "
                f"split it (split -l 100000 {name}) or raise {MAX_INPUT_VARIABLE}"
            )
        chunks.append(chunk)


def read_input(value: str) -> InputText:
    """The whole of file ``value`` ('-' for standard input), bounded and decoded."""
    limit = max_input_bytes()
    if value == "-":
        stdin = sys.stdin
        buffer = getattr(stdin, "buffer", None) if stdin is not None else None
        if buffer is None or stdin.closed:
            raise ValueError("-: standard input is closed; pass a FILE or pipe records in")
        try:
            return InputText("<stdin>", decode_utf8("<stdin>", _read_bounded(buffer, "-", limit)))
        except OSError as failed:
            raise ValueError(
                f"-: cannot read standard input ({failed.strerror or failed}); pass a FILE"
            ) from None
    path = Path(value)
    try:
        if path.is_dir():
            raise ValueError(f"{value}: is a directory; give a file")
        with path.open("rb") as stream:
            return InputText(value, decode_utf8(value, _read_bounded(stream, value, limit)))
    except FileNotFoundError:
        raise ValueError(f"{value}: no such file") from None
    except PermissionError:
        raise ValueError(f"{value}: permission denied; check the file's mode") from None
    except OSError as failed:
        raise ValueError(f"{value}: cannot read ({failed.strerror or failed})") from None


class InputFile(click.ParamType[InputText]):
    """A text file (or '-') read whole: bounded in size, UTF-8, every failure one line."""

    name = "FILE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, InputText):
            return value
        try:
            return read_input(str(value))
        except ValueError as invalid:
            self.fail(str(invalid), param, ctx)


SUBJECT = SubjectType()
TIMESTAMP = UtcDateTime()
ZONE = TimeZoneName()
INPUT_FILE = InputFile()


# A numeric option as a row: (flag, type, default, help).
OptionRow = tuple[str, click.ParamType[Any], Any, str]


def option_rows(*rows: OptionRow) -> Callable[[FC], FC]:
    """Options written as a table, each shown with its default in --help."""

    def decorate(command: FC) -> FC:
        for flag, kind, default, said in reversed(rows):
            command = click.option(flag, type=kind, default=default, show_default=True, help=said)(
                command
            )
        return command

    return decorate
