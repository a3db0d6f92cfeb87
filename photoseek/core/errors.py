"""Exceptions raised by the core library.

Every exception derived from :class:`PhotoseekError` carries a one-line,
user-facing message in ``str(exc)``; front ends show it as is.
"""


class PhotoseekError(Exception):
    """Base class: a problem the user can understand and act on."""


class LibraryError(PhotoseekError):
    """The library (catalog, index, data dir) cannot be used as asked."""


class SchemaTooNewError(LibraryError):
    """The catalog was written by a newer photoseek."""


class ModelUnavailableError(PhotoseekError):
    """Model weights cannot be found, downloaded or loaded."""


class QueryError(PhotoseekError):
    """A search query cannot be parsed or used."""


class ImageError(PhotoseekError):
    """A file cannot be decoded as a photo; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class IndexCorruptError(LibraryError):
    """A saved vector index failed validation and must be rebuilt."""


class Cancelled(PhotoseekError):
    """A long step stopped because its caller asked it to."""
