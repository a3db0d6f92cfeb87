"""Runtime hook: programs photoseek starts get the user's environment, not the bundle's.

On Linux the bootloader starts the app with ``LD_LIBRARY_PATH`` pointing into
the bundle (its original value, if any, saved as ``LD_LIBRARY_PATH_ORIG``).
Every program started from the app inherits it: ``xdg-open`` and the image
viewer or file manager it starts (Open, Show in File Manager), ``systemctl``
(``photoseek service install``) would load the bundle's copies of glib,
libstdc++ or libsystemd instead of their own, and can fail. The running
process does not need the variable any more (the dynamic loader read it at
start), so it is put back as it was here, before photoseek starts.
"""

from __future__ import annotations

import os
import sys


def _restore_library_path() -> None:
    bundle = getattr(sys, "_MEIPASS", None)
    value = os.environ.get("LD_LIBRARY_PATH")
    if bundle is None or value is None or bundle not in value.split(os.pathsep):
        return
    original = os.environ.pop("LD_LIBRARY_PATH_ORIG", None)
    if original is None:
        del os.environ["LD_LIBRARY_PATH"]
    else:
        os.environ["LD_LIBRARY_PATH"] = original


if sys.platform.startswith("linux"):
    _restore_library_path()
