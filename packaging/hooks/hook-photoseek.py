"""photoseek: every submodule (some are imported by name, lazily) and its data files.

``photoseek.core.lazyimport`` imports modules from strings, which the
analysis cannot follow, so every submodule is named. The data files are the
ones read through ``Path(__file__)``, e.g. ``core/model/measured_speeds.json``;
the icons and the .desktop file are collected by the spec into ``resources/``
(where :func:`photoseek.resources.resources_dir` looks first), so the wheel's
copy under ``photoseek/_resources`` is left out here.
"""

from PyInstaller.utils.hooks import collect_data_files, collect_submodules

hiddenimports = collect_submodules("photoseek")
datas = collect_data_files("photoseek", excludes=["_resources", "_resources/**"])
