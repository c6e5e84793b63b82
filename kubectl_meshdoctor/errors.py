"""One exception root for everything the CLI turns into a one-line error.

    MeshdoctorError (exit 1)
    ├── UsageError (exit 2)        bad reference, bad flag, missing --from path
    │   └── InputError (exit 2)    unparsable input file; carries file and line
    └── DataError (exit 3)         could not gather enough data (API/Relay unreachable)

The CLI catches MeshdoctorError, prints ``str(err)`` on stderr as one line and
exits with ``err.exit_code``; everything else is a bug and prints a traceback
only with --debug.
"""

from __future__ import annotations


class MeshdoctorError(Exception):
    exit_code = 1


class UsageError(MeshdoctorError):
    exit_code = 2


class InputError(UsageError):
    """An input file could not be parsed; names the file and the line."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}")


class DataError(MeshdoctorError):
    exit_code = 3
