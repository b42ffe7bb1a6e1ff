"""The errors a user can cause, each carrying the command line's exit code."""


class ImtuiError(Exception):
    """A user-facing failure with a one-sentence message; nothing was changed."""

    exit_code = 1

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidInput(ImtuiError):
    """The input itself is malformed or names a value that does not exist (exit 2)."""

    exit_code = 2


class Refused(ImtuiError):
    """A rule forbids the operation (exit 3)."""

    exit_code = 3


class PermissionDenied(Refused):
    """The user's role or a read-only run forbids the operation (exit 3)."""


class NotFound(ImtuiError):
    """No such app, account or month (exit 4)."""

    exit_code = 4


class Conflict(ImtuiError):
    """Someone else changed the same thing at the same moment; try again (exit 5)."""

    exit_code = 5


class Unavailable(ImtuiError):
    """The database or the control plane could not be reached or failed (exit 1)."""

    exit_code = 1
