"""What the bundle leaves out: modules photoseek never imports, files it never loads.

The spec applies these rules after PyInstaller's analysis. Each rule says why
it is safe; the smoke test (``packaging/smoke_test.py``) runs every path the
app has (CLI, indexing, search, the window, the watch service) on the pruned
bundle.
"""

from __future__ import annotations

import posixpath
from fnmatch import fnmatch

# Modules never imported at run time. PyInstaller's hooks pull them in because a
# package *may* import them (hook-torch collects every torch submodule).
EXCLUDED_MODULES = [
    # torch.compile's GPU code generator: photoseek runs eager mode only. (torch's own
    # modules stay whole: torch imports its testing and checkpoint helpers at import time.)
    "triton",
    "torch.utils.tensorboard",
    "tensorboard",
    # setuptools: only torch.utils.cpp_extension (building C++ extensions) imports it; in the
    # bundle it would cost every start 0.1-0.3 s (PyInstaller's runtime hook imports it)
    "setuptools",
    "pkg_resources",
    "_distutils_hack",
    # GUI toolkits and notebooks other packages may reach for
    "tkinter",
    "_tkinter",
    "matplotlib",
    "IPython",
    "jupyter_client",
    "notebook",
    # Qt modules photoseek never imports (it uses QtCore, QtGui, QtWidgets, QtNetwork,
    # QtDBus, and the SVG plugins through QtGui)
    "PySide6.QtQml",
    "PySide6.QtQuick",
    "PySide6.QtQuickWidgets",
    "PySide6.QtQuickControls2",
    "PySide6.QtWebEngineCore",
    "PySide6.QtWebEngineWidgets",
    "PySide6.QtMultimedia",
    "PySide6.Qt3DCore",
    "PySide6.QtCharts",
    "PySide6.QtDataVisualization",
    "PySide6.QtPdf",
    "PySide6.QtOpenGL",
    "PySide6.QtOpenGLWidgets",
    "PySide6.QtDesigner",
    "PySide6.QtUiTools",
    "PySide6.QtHelp",
    "PySide6.QtSql",
    "PySide6.QtTest",
    # test runners and the optional multilingual extra (installed separately with pip)
    "pytest",
    "_pytest",
    "transformers",
]

# CUDA's libraries: cut from a build whose torch is a CPU build (they come in only as
# dependencies of a CUDA torchvision, which cannot use them there). A CUDA torch links them:
# its build keeps them (see packaging/README.md for what they weigh).
CUDA_FILES = [
    "nvidia/*",
    "*libcudart*",
    "*libcublas*",
    "*libcudnn*",
    "*libnccl*",
    "*libcusparse*",
    "*libcufft*",
    "*libcurand*",
    "*libcusolver*",
    "*libnvrtc*",
    "*libnvJitLink*",
    "*libnvshmem*",
    "*libcupti*",
    "*libcufile*",
    "*libnvToolsExt*",
    "*libnvjpeg*",  # torchvision's GPU JPEG decoder (torchvision.libs)
]

# Files (bundle-relative destination, POSIX separators) never loaded at run time.
EXCLUDED_FILES = [
    "triton/*",  # torch.compile's compiler backends (and their copy of ptxas)
    # torch's headers, CMake files, static libraries and test binaries (for building
    # extensions against torch, which a bundle never does)
    "torch/include/*",
    "torch/share/*",
    "torch/lib/*.a",
    "torch/bin/test_*",  # torch's C++ unit tests (test_api, test_jit ...)
    "torch/bin/*Test",  # FileStoreTest, HashStoreTest, TCPStoreTest
    "torch/bin/protoc*",  # the protobuf compiler
    "torch/test/*",
    # Qt: no QTranslator is installed (the app is in English); QML/Quick is not used
    "PySide6/Qt/translations/*",
    "PySide6/Qt/qml/*",
    # (each library also has a link at the top of the bundle, hence the two patterns)
    "PySide6/Qt/lib/libQt6Quick*",
    "libQt6Quick*",
    "PySide6/Qt/lib/libQt6Qml*",
    "libQt6Qml*",
    "PySide6/Qt/lib/libQt6Pdf*",
    "libQt6Pdf*",
    "PySide6/Qt/lib/libQt6WebEngine*",
    "PySide6/Qt/lib/libQt6VirtualKeyboard*",
    "libQt6VirtualKeyboard*",
    "PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin*",
    "PySide6/Qt/plugins/imageformats/libqpdf*",
    # The GTK 3 theme plugin: it needs the system's GTK, and the partial copy of GTK's
    # libraries (cairo, pango, gdk-pixbuf) it drags in would shadow the system's own when it
    # loads; Qt falls back to its xdg-desktop-portal and generic themes
    "PySide6/Qt/plugins/platformthemes/libqgtk3*",
    "PySide6/Qt/plugins/networkinformation/*",
    "PySide6/Qt/plugins/tls/*",  # QtNetwork's TLS backends: photoseek uses local sockets only
    # Linux: the desktop's own libraries, present wherever a window can open, that must be
    # the system's: fontconfig reads the system's fonts.conf (an older copy chokes on a newer
    # file), and a bundled libstdc++/libgcc_s older than the system's breaks the GL drivers Qt
    # loads (GLIBCXX_3.4.3x not found); libmvec is part of glibc. The bundle's Python
    # extensions need nothing newer than the build machine has, and the release is built on the
    # oldest distribution it supports (packaging/README.md). Hashed copies that wheels ship
    # (libfreetype-57f805ba.so.6 ...) are kept: these patterns name the plain files only.
    "libstdc++.so.6",
    "libgcc_s.so.1",
    "libmvec.so.1",
    "libfontconfig.so.1",
    "libfreetype.so.6",
    "libexpat.so.1",
    "libX11.so.6",
    "libX11-xcb.so.1",
    "libXau.so.6",
    "libXdmcp.so.6",
    # package test folders
    "*/tests/*",
    "onnx/backend/test/*",
    "numpy/_core/tests/*",
    "numpy/*/tests/*",
    "sympy/*/tests/*",
]

# Kept even though a rule above matches (photoseek's own data).
KEPT_FILES = ["photoseek/*", "resources/*"]


def excluded(dest: str, *, cpu_only: bool = True) -> bool:
    """Whether the bundle file ``dest`` (relative to the bundle's library folder) is cut.

    ``cpu_only``: torch is a CPU build, so CUDA's libraries go too.
    """
    dest = dest.replace("\\", "/")
    if any(fnmatch(dest, pattern) for pattern in KEPT_FILES):
        return False
    patterns = EXCLUDED_FILES + CUDA_FILES if cpu_only else EXCLUDED_FILES
    return any(fnmatch(dest, pattern) for pattern in patterns)


def prune(
    toc: list[tuple[str, str, str]], *, cpu_only: bool = True
) -> tuple[list[tuple[str, str, str]], list[str]]:
    """``toc`` without the excluded entries, and the names cut."""
    kept: list[tuple[str, str, str]] = []
    cut: list[str] = []
    for entry in toc:
        if excluded(entry[0], cpu_only=cpu_only):
            cut.append(entry[0])
        else:
            kept.append(entry)
    return kept, cut


def without_dangling_links(
    toc: list[tuple[str, str, str]], cut: set[str]
) -> list[tuple[str, str, str]]:
    """``toc`` without the symbolic links whose target was cut."""

    def target(entry: tuple[str, str, str]) -> str:
        dest, link = entry[0].replace("\\", "/"), entry[1].replace("\\", "/")
        return posixpath.normpath(posixpath.join(posixpath.dirname(dest), link))

    return [entry for entry in toc if entry[2] != "SYMLINK" or target(entry) not in cut]
