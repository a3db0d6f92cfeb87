"""Build photoseek's one-folder bundle (and, on Linux, its release tarball).

    python3 packaging/build.py                       # torch as pip resolves it (CUDA on Linux)
    python3 packaging/build.py --torch-index https://download.pytorch.org/whl/cpu   # release
    python3 packaging/build.py --torch TORCH.whl --torchvision 'torchvision==0.28.0'

Steps: a fresh virtual environment in ``packaging/build/venv`` (never the
development one) with torch, hnswlib built from source for any x86-64 CPU
(``HNSWLIB_NO_NATIVE=1``), photoseek itself and the pinned PyInstaller; a
check that torchvision's C++ ops load beside that torch; PyInstaller on
``packaging/photoseek.spec``; the bundle's size. Output:
``packaging/dist/photoseek/`` (run ``packaging/dist/photoseek/photoseek``),
``packaging/dist/build-info.json`` and, on Linux,
``packaging/dist/photoseek-VERSION-linux-x86_64.tar.gz``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from buildenv import TorchSource, create, probe_torch, python_of, run  # noqa: E402
from bundlesize import report, tree_bytes  # noqa: E402
from projectinfo import platform_tag, project_info  # noqa: E402
from tarball import make_tarball  # noqa: E402
from windows.versioninfo import write_version_info  # noqa: E402

BUILD = HERE / "build"
DIST = HERE / "dist"
SPEC = HERE / "photoseek.spec"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--build-dir", type=Path, default=BUILD, help="the environment and PyInstaller's work"
    )
    parser.add_argument("--dist", type=Path, default=DIST, help="where the bundle goes")
    parser.add_argument(
        "--reuse-venv",
        action="store_true",
        help="keep an existing build environment (reinstalls photoseek only); for iterating",
    )
    parser.add_argument("--torch-index", help="index with torch and torchvision (CPU builds)")
    parser.add_argument("--torch", default="", help="torch requirement or wheel file")
    parser.add_argument("--torchvision", default="", help="torchvision requirement or wheel")
    parser.add_argument("--no-tarball", action="store_true", help="the bundle folder only")
    return parser.parse_args(argv)


def prepare_env(args: argparse.Namespace) -> Path:
    """The build environment's python: made fresh, or reused with photoseek reinstalled."""
    python = python_of(args.build_dir / "venv")
    if args.reuse_venv and python.is_file():
        run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", "."])
        return python
    source = TorchSource(args.torch_index, args.torch, args.torchvision)
    return create(args.build_dir / "venv", source)


def run_pyinstaller(
    python: Path, torch_info: dict[str, object], build_dir: Path, dist: Path
) -> Path:
    """PyInstaller on the spec; the bundle folder."""
    cpu_only = "1" if torch_info.get("cuda") is None else "0"
    env = dict(os.environ, PHOTOSEEK_BUILD_DIR=str(build_dir), PHOTOSEEK_CPU_ONLY=cpu_only)
    env.pop("PYTHONPATH", None)
    if torch_info.get("torchvision_ops") is False:
        env["PHOTOSEEK_TORCHVISION_SHIM"] = "1"
        print("torchvision's ops do not load beside torch:", torch_info.get("torchvision_error"))
        print("  -> the bundle declares nms/qnms so torchvision imports (rthook_torchvision_ops)")
    write_version_info(build_dir / "version_info.txt")
    if sys.platform == "win32":  # the executables' and the installer's icon (Pillow: the venv's)
        run([str(python), str(HERE / "windows" / "makeicon.py"), str(build_dir / "photoseek.ico")])
    argv = [str(python), "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN"]
    argv += ["--distpath", str(dist), "--workpath", str(build_dir / "work"), str(SPEC)]
    print("+", " ".join(argv), flush=True)
    # cwd: the build folder, so that the checkout is not on sys.path (the installed photoseek is)
    subprocess.run(argv, check=True, env=env, cwd=build_dir)
    return dist / project_info().name


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.build_dir, args.dist = args.build_dir.absolute(), args.dist.absolute()
    args.build_dir.mkdir(parents=True, exist_ok=True)
    os.chdir(HERE.parent)
    started = time.monotonic()
    python = prepare_env(args)
    env_seconds = time.monotonic() - started
    torch_info = probe_torch(python)
    print("torch in the build:", json.dumps(torch_info))
    if args.dist.exists():
        shutil.rmtree(args.dist)
    bundle = run_pyinstaller(python, torch_info, args.build_dir, args.dist)
    build_seconds = time.monotonic() - started - env_seconds
    info: dict[str, object] = {
        "version": project_info().version,
        "platform": platform_tag(),
        "torch": torch_info,
        "bundle_bytes": tree_bytes(bundle),
        "env_seconds": round(env_seconds),
        "pyinstaller_seconds": round(build_seconds),
        "venv": str(args.build_dir / "venv"),
    }
    summary = f"environment {env_seconds:.0f} s, PyInstaller {build_seconds:.0f} s"
    if sys.platform.startswith("linux") and not args.no_tarball:
        tar_started = time.monotonic()
        tarball = make_tarball(bundle, args.dist)
        tar_seconds, size = time.monotonic() - tar_started, tarball.stat().st_size
        info.update(tarball=str(tarball), tarball_bytes=size, tarball_seconds=round(tar_seconds))
        summary += f", tarball {tar_seconds:.0f} s ({size / 1e6:,.0f} MB)"
    (args.dist / "build-info.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    print(report(bundle))
    print(summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
