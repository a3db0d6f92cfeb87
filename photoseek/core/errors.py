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


class SchemaTooOldError(LibraryError):
    """The catalog must be migrated by a writer before a read-only open can use it."""


class ModelUnavailableError(PhotoseekError):
    """Model weights cannot be found, downloaded or loaded."""


class MissingExtraError(ModelUnavailableError):
    """The chosen model needs an optional extra that is not installed (``photoseek[NAME]``)."""


class QueryError(PhotoseekError):
    """A search query cannot be parsed or used."""


class ImageError(PhotoseekError):
    """A file cannot be decoded as a photo; ``reason`` says why.

    ``format`` is the sniffed format (``"jpeg"``, ``"raw"``, ...) when the
    content was identified before the failure, else ``None``. ``decoder`` is
    then the decoder tag (:func:`photoseek.core.imaging.decoders.decoder_tag`)
    of the decoder that failed, such as ``"raw/1;prep/1"``: stored with the
    failure, it lets the indexer re-examine the file once that decoder
    changes. ``unsupported`` is true when the file is not damaged but of a
    kind this installation cannot decode (camera RAW without rawpy, HEIC
    without pillow-heif).
    """

    def __init__(
        self,
        reason: str,
        *,
        format: str | None = None,
        decoder: str | None = None,
        unsupported: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.format = format
        self.decoder = decoder
        self.unsupported = unsupported


class IndexCorruptError(LibraryError):
    """A saved vector index failed validation and must be rebuilt."""


class Cancelled(PhotoseekError):
    """A long step stopped because its caller asked it to."""
