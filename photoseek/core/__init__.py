"""The photoseek library: headless, no Qt. Front ends use :class:`Library`."""

from photoseek.core.library import Library, LibraryStatus

__all__ = ["Library", "LibraryStatus"]
