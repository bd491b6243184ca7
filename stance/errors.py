"""The ways `stance` fails on bad input. Each message is one line: what, where, what next."""


class StanceError(Exception):
    """Base class: a problem with the user's input that the CLI reports in one line."""


class InputFileError(StanceError):
    """An input file is missing, unreadable, not UTF-8 or malformed."""


class LabelFileError(InputFileError):
    """A label file is missing, malformed, or fails validation."""


class OutputError(StanceError):
    """Standard output or an output file cannot be written (a full disk, a closed stream)."""


class ModelError(StanceError):
    """A model directory is missing, incomplete, corrupt or from an incompatible version."""


class UsageError(StanceError):
    """Options that do not fit together, or a value outside its range."""



class InvalidTextError(StanceError, ValueError):
    """A text or label given to the Python API is missing or not a string (names its position)."""


class RequestError(StanceError):
    """A request that `stance serve` refuses; it is answered with `status`, a 4xx code."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status
