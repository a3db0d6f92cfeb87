"""torchvision: its C++ extension libraries, whatever they are called (replaces the stock hook).

The stock hook names ``torchvision._C`` only. torchvision 0.29 renamed its
libraries ``_C_stable.so`` and ``image_stable.so`` (torch's stable ABI), so the
stock hook collects neither, and the bundle fails at run time with
``operator torchvision::nms does not exist`` (its ``_meta_registrations``
needs the ops ``_C_stable`` defines). torchvision finds them by file name in
its package folder (``extension._get_extension_path``), so every library in
the package goes there, with the libraries they link to (``torchvision.libs``).
Sources are kept beside the bytecode, as the stock hook does (TorchScript
reads them).
"""

from PyInstaller.utils.hooks import collect_dynamic_libs

# every library file, not only the lib*.so that collect_dynamic_libs looks for by default
LIBRARIES = ["*.so", "*.pyd", "*.dll", "*.dylib"]
binaries = collect_dynamic_libs("torchvision", search_patterns=LIBRARIES)
module_collection_mode = "pyz+py"
