"""Errors that a loader reports to the user, in French, naming the file at fault."""

from pathlib import Path


class SourceError(Exception):
    """A source file is missing, truncated or not in the expected format."""

    def __init__(self, message: str, path=None):
        self.message = message
        self.path = Path(path) if path is not None else None
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.path is None:
            return self.message
        return f"{self.path} : {self.message}"

    def __reduce__(self):
        # raised in a worker process of `oc build` (a file read in parallel), it comes back whole:
        # the default pickling would call __init__ again with the formatted message only
        return _restore, (type(self), self.__dict__)


def _restore(cls, state: dict) -> SourceError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, str(error))
    return error
