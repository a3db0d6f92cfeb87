"""Windows' version resource for photoseek.exe, from pyproject.toml.

    python packaging/windows/versioninfo.py OUT.txt

PyInstaller's ``EXE(version=...)`` embeds it: Explorer's Properties > Details
then show the product name, version and description, and installers compare
versions with it. Written on every build so it never drifts from pyproject.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from projectinfo import ProjectInfo, project_info

TEMPLATE = """# UTF-8 -- written by packaging/windows/versioninfo.py; do not edit
VSVersionInfo(
  ffi=FixedFileInfo(filevers={tup}, prodvers={tup}, mask=0x3f, flags=0x0, OS=0x40004,
                    fileType=0x1, subtype=0x0, date=(0, 0)),
  kids=[
    StringFileInfo([StringTable('040904B0', [
      StringStruct('CompanyName', 'photoseek developers'),
      StringStruct('FileDescription', {description!r}),
      StringStruct('FileVersion', {version!r}),
      StringStruct('InternalName', {name!r}),
      StringStruct('LegalCopyright', 'MIT licence'),
      StringStruct('OriginalFilename', {exe!r}),
      StringStruct('ProductName', {name!r}),
      StringStruct('ProductVersion', {version!r})])]),
    VarFileInfo([VarStruct('Translation', [1033, 1200])])
  ]
)
"""


def version_info_text(info: ProjectInfo) -> str:
    """The version resource in PyInstaller's text form."""
    return TEMPLATE.format(
        tup=info.version_tuple,
        description=info.description,
        version=info.version,
        name=info.name,
        exe=f"{info.name}.exe",
    )


def write_version_info(target: Path) -> Path:
    """Write the version resource of the current pyproject.toml to ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(version_info_text(project_info()), encoding="utf-8")
    return target


if __name__ == "__main__":
    write_version_info(Path(sys.argv[1]))
