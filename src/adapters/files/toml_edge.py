"""The cattrs edge every TOML file of the platform shares (pipeline files, policy files,
settings): strict structuring and problems as "path: reason" lines naming the key."""

from __future__ import annotations

import enum
import tomllib
from pathlib import Path
from typing import Any, Generic, TypeVar

import attrs
import cattrs


def _strict_str(value: Any, _: type) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {type(value).__name__} {value!r}")
    return value


def _enum(value: Any, target: type[enum.Enum]) -> enum.Enum:
    try:
        return target(value)
    except ValueError:
        allowed = ", ".join(str(m.value) for m in target)
        raise ValueError(f"expected one of {allowed}; got {value!r}") from None


def _strict_list_of_str(value: Any, _: type) -> list[str]:
    # A string is iterable: without this, keys = "order_id" became the keys o, r, d, ...
    if isinstance(value, str):
        raise ValueError(
            f"expected a list of names, got the string {value!r}; write [{value!r}]".replace(
                "'", '"'
            )
        )
    if not isinstance(value, list):
        raise ValueError(f"expected a list of names, got {type(value).__name__} {value!r}")
    bad = [item for item in value if not isinstance(item, str)]
    if bad:
        raise ValueError(f"expected names (strings), got {bad[0]!r} in {value!r}")
    return list(value)


def toml_converter() -> cattrs.Converter:
    """Unknown keys refused, strings never made from numbers, enums naming their values, and
    a list of names never made from one string."""
    converter = cattrs.Converter(forbid_extra_keys=True)
    converter.register_structure_hook(str, _strict_str)
    converter.register_structure_hook_func(lambda t: t == list[str], _strict_list_of_str)
    converter.register_structure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, enum.Enum), _enum
    )
    return converter


def _format(exc: BaseException, expected: type | None) -> str:
    if isinstance(exc, ValueError) and str(exc):
        return str(exc)
    if isinstance(exc, KeyError):
        return "required; add it"
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        return f"unknown key(s) {', '.join(map(repr, sorted(exc.extra_fields)))}; remove them"
    return cattrs.v.format_exception(exc, expected)


def explain(invalid: cattrs.BaseValidationError, where: str = "", empty: str = "") -> list[str]:
    """Each problem as "path: reason" (cattrs says "reason @ path"); ``where`` prefixes the
    paths, ``empty`` names a problem of the whole document."""
    lines = cattrs.transform_error(invalid, path=where, format_exception=_format)
    return [
        f"{path.lstrip('.') or empty}: {reason}"
        for reason, _, path in (line.rpartition(" @ ") for line in lines)
    ]


def read_toml(path: Path, what: str, error: type[ValueError]) -> dict[str, Any]:
    """The TOML document in ``path`` (a ``what`` file: "pipeline", "recon"), or ``error``
    naming the file and the fix: missing, a directory, unreadable, not UTF-8, not TOML."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise error(f"{path}: no such {what} file") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory; give a {what} .toml file") from None
    except OSError as failed:
        raise error(f"{path}: cannot read ({failed.strerror})") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise error(
            f"{path}: not UTF-8 text; a {what} file is UTF-8 TOML (convert it with iconv)"
        ) from None
    except tomllib.TOMLDecodeError as bad:
        raise error(f"{path}: not valid TOML: {bad}") from None


Spec = TypeVar("Spec")


@attrs.frozen
class SpecFile(Generic[Spec]):
    """A pipeline or recon file as read: the spec and the Spark settings it asks for."""

    path: Path
    spec: Spec
    spark_master: str
    spark_conf: dict[str, str]
    warnings: tuple[str, ...] = ()  # e.g. a literal password: said before the run starts
