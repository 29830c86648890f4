"""What a command may fail with, and the exit code each failure maps to."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    CHECK_FAILED = 1  # a check found a problem, or the command could not finish
    BAD_INPUT = 2  # the user's input (arguments, files, settings) is wrong
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as shells report it)


class CommandError(Exception):
    """A failure to show as one line; ``code`` is the exit status."""

    code = ExitCode.CHECK_FAILED

    def __init__(self, message: str, code: ExitCode | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self)


class BadInput(CommandError):
    """The input is wrong: the message names the input, the field and the fix."""

    code = ExitCode.BAD_INPUT
