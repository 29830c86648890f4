"""The command group every app is built on: no failure leaves it as a traceback."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, NoReturn

import click

from apps.cli.errors import BadInput, CommandError, ExitCode

DEBUG_VARIABLE = "DATAPLATFORM_DEBUG"

# Turns an exception of a library the app uses into (one line, exit code), or None when
# the exception is not one it knows.
Translator = Callable[[BaseException, click.Context | None], tuple[str, ExitCode] | None]

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def one_line(text: str) -> str:
    """A message folded onto one line (a user reads one line per failure): runs of
    whitespace, line breaks included, become one space; other invisible characters that
    came in with the input are shown escaped."""
    return printable(" ".join(text.split())) or "failed"


def printable(text: str) -> str:
    """``text`` with every character that would break or hide a line escaped."""
    return "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
        for ch in text
    )


def emit_error(message: str) -> None:
    with contextlib.suppress(OSError, ValueError):  # stderr closed: nothing more to say
        click.echo(f"error: {one_line(message)}", err=True)


def fail(message: str, code: ExitCode = ExitCode.CHECK_FAILED) -> NoReturn:
    """Stop the command with one line on stderr and ``code``."""
    raise CommandError(message, code)


def bad_input(message: str) -> NoReturn:
    """Stop the command: the input is wrong (exit 2)."""
    raise BadInput(message)


def _usage_line(error: click.UsageError) -> str:
    where = error.ctx.command_path if error.ctx is not None else None
    hint = f" (see `{where} --help`)" if where else ""
    return f"{error.format_message()}{hint}"


class AppGroup(click.Group):
    """A click group that maps every failure to one line on stderr and an exit code.

    - :class:`CommandError` (and :class:`BadInput`): its message and code;
    - click's usage and parameter errors: one line with a pointer to ``--help``, exit 2;
    - Ctrl-C: ``interrupted``, exit 130;
    - an exception a translator of the app recognises (a database driver's, say): its line;
    - anything else: one line naming the exception; ``DATAPLATFORM_DEBUG=1`` shows the
      traceback.
    """

    translators: ClassVar[Sequence[Translator]] = ()

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        self._context: click.Context | None = None
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except SystemExit:
            raise
        except BaseException as failure:  # - this is the one place that maps all
            message, code = self._describe(failure, self._context)
            if os.environ.get(DEBUG_VARIABLE) and code not in (
                ExitCode.BAD_INPUT,
                ExitCode.INTERRUPTED,
            ):
                raise
            emit_error(message)
            sys.exit(int(code))
        sys.exit(result if isinstance(result, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        self._context = ctx  # for the translators: what the app had built (its services)
        return super().invoke(ctx)

    def _describe(self, failure: BaseException, ctx: click.Context | None) -> tuple[str, ExitCode]:
        if isinstance(failure, CommandError):
            return failure.message, failure.code
        if isinstance(failure, click.UsageError):
            return _usage_line(failure), ExitCode.BAD_INPUT
        if isinstance(failure, click.FileError):
            return failure.format_message(), ExitCode.BAD_INPUT
        if isinstance(failure, click.ClickException):
            return failure.format_message(), ExitCode(min(failure.exit_code, 2))
        if isinstance(failure, click.Abort | KeyboardInterrupt):
            return (
                "interrupted; what was committed before stays, nothing else was written",
                ExitCode.INTERRUPTED,
            )
        if isinstance(failure, MemoryError):
            return (
                "out of memory; give the command a smaller input or more memory",
                ExitCode.CHECK_FAILED,
            )
        for translate in self.translators:
            described = translate(failure, ctx)
            if described is not None:
                return described
        reason = one_line(str(failure))[:300]
        return (
            f"unexpected {type(failure).__name__}: {reason}. This is a bug of the tool; rerun "
            f"with {DEBUG_VARIABLE}=1 to see where it happened and report it",
            ExitCode.CHECK_FAILED,
        )
