"""Smoke-test the bundle as a user gets it: installed from the tarball, in a clean environment.

    python3 packaging/smoke_test.py                 # test packaging/dist (built before)
    python3 packaging/smoke_test.py --build [BUILD OPTIONS]   # build.py first, then test

Using the bundle alone (no virtual environment on PATH, PYTHONPATH unset, a
fresh HOME; see smoke/cleanenv.py), it:

1. installs it with the tarball's ``install.sh`` into the fresh HOME (or, on
   a platform without the tarball, copies the bundle folder elsewhere, so a
   path baked in at build time would show);
2. prints ``photoseek --version``;
3. adds a few photos (copied from ../shared/photos/coco/images, else drawn)
   and indexes them with a random-weight checkpoint file (written by
   smoke/write_checkpoint.py with the build environment's Python, the only
   step that runs outside the bundle): ``--model CONFIG.json --pretrained
   FILE.safetensors``;
4. answers ``search --json``;
5. starts the app offscreen with ``PHOTOSEEK_QUIT_WHEN_SHOWN=1`` and checks
   that it showed its window and quit with exit code 0;
6. starts ``watch``, waits until its ``service.json`` says it is watching,
   stops it with SIGTERM, and checks exit code 0 and the state ``stopped``;
7. runs ``uninstall.sh`` and checks that nothing of it is left.

It reports the bundle's size and its cold start times: ``--version``, the
first search (the whole process), the window shown (the app's own
``window_shown`` log line, from process start). Exit code 0 when every step
passed. The figures are one run each, with the bundle's files in the page
cache (just unpacked), on whatever machine runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bundlesize import report  # noqa: E402
from projectinfo import project_info  # noqa: E402
from smoke.cleanenv import clean_env  # noqa: E402

DIST = HERE / "dist"
STEP_TIMEOUT_S = 900
QUERY = "a dog on a beach"


class SmokeFailure(Exception):
    """A step did not do what it must."""


@dataclass
class Results:
    """What each step measured, for the summary."""

    seconds: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def record(self, step: str, seconds: float, note: str) -> None:
        self.seconds[step] = seconds
        line = f"{step:<22} {seconds:7.2f} s  {note}"
        self.notes.append(line)
        print(f"[smoke] {line}", flush=True)


@dataclass
class Install:
    """The installed program, the clean environment that runs it, and how to undo it."""

    exe: Path
    env: dict[str, str]
    home: Path
    uninstall: Path | None


def run_step(argv: list[str], env: dict[str, str], **kwargs: object) -> tuple[float, str, str]:
    """Run ``argv``; (wall seconds, stdout, stderr); raise SmokeFailure on a non-zero exit."""
    started = time.monotonic()
    out = subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=STEP_TIMEOUT_S, **kwargs
    )  # type: ignore[call-overload]
    seconds = time.monotonic() - started
    if out.returncode != 0:
        raise SmokeFailure(
            f"{' '.join(argv)} exited {out.returncode}\n--- stdout\n{out.stdout}\n"
            f"--- stderr\n{out.stderr}"
        )
    return seconds, out.stdout, out.stderr


def install(bundle: Path, tarball: Path | None, scratch: Path) -> Install:
    """Install the bundle for a fresh user in ``scratch``."""
    home = scratch / "home"
    if tarball is not None:
        with tarfile.open(tarball) as tar:
            tar.extractall(scratch / "unpacked", filter="tar")
        top = next((scratch / "unpacked").iterdir())
        env = clean_env(home)
        seconds, out, _ = run_step(["sh", str(top / "install.sh")], env)
        print(f"[smoke] installed from {tarball.name} in {seconds:.1f} s: {out.strip()}")
        check_desktop_files(home)
        bin_dir = home / ".local" / "bin"
        return Install(
            bin_dir / "photoseek", clean_env(home, extra_path=bin_dir), home, top / "uninstall.sh"
        )
    import shutil

    target = scratch / "app" / bundle.name
    shutil.copytree(bundle, target, symlinks=True)
    exe = target / ("photoseek.exe" if sys.platform == "win32" else "photoseek")
    return Install(exe, clean_env(home), home, None)


def check_desktop_files(home: Path) -> None:
    """The .desktop file points at the installed program; the icons are in hicolor."""
    share = home / ".local" / "share"
    desktop = (share / "applications" / "photoseek.desktop").read_text(encoding="utf-8")
    exec_line = next(line for line in desktop.splitlines() if line.startswith("Exec="))
    program = Path(exec_line.removeprefix("Exec=").split()[0])
    if not os.access(program, os.X_OK):
        raise SmokeFailure(f"the .desktop file's Exec is not executable: {program}")
    for icon in ("256x256/apps/photoseek.png", "scalable/apps/photoseek.svg"):
        if not (share / "icons" / "hicolor" / icon).is_file():
            raise SmokeFailure(f"icon not installed: {icon}")


def prepare_inputs(scratch: Path, writer_python: Path, count: int) -> tuple[Path, Path, Path]:
    """(photos folder, model config, weights file), written outside the clean environment."""
    photos = scratch / "photos"
    out = subprocess.run(
        [str(writer_python), str(HERE / "smoke" / "make_photos.py"), str(photos), str(count)],
        check=True,
        capture_output=True,
        text=True,
    )
    print(f"[smoke] {out.stdout.strip()}")
    out = subprocess.run(
        [str(writer_python), str(HERE / "smoke" / "write_checkpoint.py"), str(scratch / "model")],
        check=True,
        capture_output=True,
        text=True,
    )
    config, weights = (Path(line) for line in out.stdout.split())
    print(f"[smoke] random-weight checkpoint: {weights.name} ({weights.stat().st_size:,} bytes)")
    return photos, config, weights


def data_dir(home: Path) -> Path:
    """photoseek's default library folder for a user whose home is ``home`` (Linux)."""
    return home / ".local" / "share" / "photoseek"


def log_file(home: Path) -> Path:
    """photoseek's default log file for ``home`` (Linux)."""
    return home / ".local" / "state" / "photoseek" / "log" / "photoseek.log"


def check_version(app: Install, results: Results) -> None:
    seconds, out, _ = run_step([str(app.exe), "--version"], app.env)
    expected = f"photoseek {project_info().version}"
    if out.strip() != expected:
        raise SmokeFailure(f"--version printed {out.strip()!r}, not {expected!r}")
    results.record("--version", seconds, out.strip())


def check_index(app: Install, model: list[str], photos: Path, count: int, results: Results) -> None:
    seconds, _, _ = run_step([str(app.exe), "add", str(photos)], app.env)
    results.record("add", seconds, str(photos))
    seconds, out, err = run_step([str(app.exe), *model, "index"], app.env)
    results.record("index", seconds, (out or err).strip().splitlines()[-1])
    _, out, _ = run_step([str(app.exe), *model, "status", "--json"], app.env)
    indexed = json.loads(out)["photos"].get("indexed", 0)
    if indexed != count:
        raise SmokeFailure(f"{indexed} photos indexed, not {count}: {out}")


def check_search(app: Install, model: list[str], count: int, results: Results) -> None:
    argv = [str(app.exe), *model, "search", "--json", QUERY]
    seconds, out, _ = run_step(argv, app.env)
    found = json.loads(out)
    if not isinstance(found, list) or not found:
        raise SmokeFailure(f"search --json answered {out!r}")
    results.record("first search", seconds, f"{len(found)} results for {QUERY!r} (of {count})")
    seconds, out, _ = run_step(argv, app.env)
    results.record("second search", seconds, f"{len(json.loads(out))} results")


WINDOW_SHOWN = re.compile(r"window_shown ([0-9.]+) s after process start")


def check_gui(app: Install, model: list[str], results: Results) -> None:
    env = dict(app.env, QT_QPA_PLATFORM="offscreen", PHOTOSEEK_QUIT_WHEN_SHOWN="1")
    seconds, _, err = run_step([str(app.exe), *model], env)
    log = log_file(app.home).read_text(encoding="utf-8")
    shown = WINDOW_SHOWN.findall(log)
    if not shown or "Traceback" in err:
        raise SmokeFailure(f"the app did not show its window\n{err}\n{log[-3000:]}")
    results.record("window shown", float(shown[-1]), "from process start (the app's log)")
    results.record("app start to exit", seconds, "offscreen, quit once shown, exit code 0")


def check_watch(app: Install, model: list[str], results: Results) -> None:
    state_file = data_dir(app.home) / "service.json"
    started = time.monotonic()
    service = subprocess.Popen(
        [str(app.exe), *model, "watch"],
        env=app.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        state = wait_for_state(state_file, service, {"watching"})
        results.record("watch: watching", time.monotonic() - started, f"service.json: {state}")
        stopping = time.monotonic()
        service.send_signal(signal.SIGTERM)
        _out, err = service.communicate(timeout=STEP_TIMEOUT_S)
    finally:
        if service.poll() is None:
            service.kill()
            service.wait()
    state = json.loads(state_file.read_text(encoding="utf-8")).get("state")
    if service.returncode != 0 or state != "stopped":
        raise SmokeFailure(f"watch: exit code {service.returncode}, state {state}\n{err}")
    results.record("watch: SIGTERM", time.monotonic() - stopping, "exit code 0, state stopped")


def wait_for_state(state_file: Path, service: subprocess.Popen[str], wanted: set[str]) -> str:
    """Poll ``service.json`` until its state is in ``wanted``; the state."""
    deadline = time.monotonic() + STEP_TIMEOUT_S
    while time.monotonic() < deadline:
        if service.poll() is not None:
            _, err = service.communicate()
            raise SmokeFailure(f"watch exited {service.returncode} before watching\n{err}")
        try:
            state = json.loads(state_file.read_text(encoding="utf-8")).get("state")
        except (OSError, ValueError):
            state = None
        if state in wanted:
            return str(state)
        time.sleep(0.2)
    raise SmokeFailure(f"watch never reached {wanted} within {STEP_TIMEOUT_S} s")


def check_uninstall(app: Install) -> None:
    if app.uninstall is None:
        return
    run_step(["sh", str(app.uninstall)], app.env)
    share = app.home / ".local" / "share"
    left = [
        path
        for path in (
            app.home / ".local" / "lib" / "photoseek",
            app.home / ".local" / "bin" / "photoseek",
            share / "applications" / "photoseek.desktop",
            share / "icons" / "hicolor" / "256x256" / "apps" / "photoseek.png",
        )
        if path.exists() or path.is_symlink()
    ]
    if left:
        raise SmokeFailure(f"uninstall.sh left {left}")
    if not data_dir(app.home).is_dir():
        raise SmokeFailure("uninstall.sh without --purge removed the library")
    print("[smoke] uninstall.sh removed the program, the menu entry and the icons; library kept")


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", action="store_true", help="run build.py first")
    parser.add_argument("--dist", type=Path, default=DIST, help="build.py's output folder")
    parser.add_argument(
        "--build-dir", type=Path, default=HERE / "build", help="build.py's environment and work"
    )
    parser.add_argument("--photos", type=int, default=8, help="how many photos to index")
    parser.add_argument(
        "--writer-python",
        type=Path,
        help="a Python with photoseek and torch, for the checkpoint (default: the build's)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    return parser.parse_known_args(argv)


def main(argv: list[str] | None = None) -> int:
    args, build_args = parse_args(argv)
    started = time.monotonic()
    if args.build:
        where = ["--dist", str(args.dist), "--build-dir", str(args.build_dir)]
        subprocess.run([sys.executable, str(HERE / "build.py"), *where, *build_args], check=True)
    elif build_args:
        raise SystemExit(f"unknown options (build options need --build): {build_args}")
    bundle = args.dist / project_info().name
    tarballs = sorted(args.dist.glob("photoseek-*.tar.gz"))
    build_info = args.dist / "build-info.json"
    if build_info.is_file():
        print(f"[smoke] build: {build_info.read_text(encoding='utf-8').strip()}")
    print(report(bundle))
    writer = args.writer_python or args.build_dir / "venv" / "bin" / "python"
    scratch = Path(tempfile.mkdtemp(prefix="photoseek-smoke-"))
    results = Results()
    failed = False
    try:
        app = install(bundle, tarballs[-1] if tarballs else None, scratch)
        photos, config, weights = prepare_inputs(scratch, writer, args.photos)
        count = len(list(photos.iterdir()))
        model = ["--model", str(config), "--pretrained", str(weights)]
        check_version(app, results)
        check_index(app, model, photos, count, results)
        check_search(app, model, count, results)
        check_gui(app, model, results)
        check_watch(app, model, results)
        check_uninstall(app)
    except SmokeFailure as exc:
        failed = True
        print(f"[smoke] FAILED: {exc}")
        print(f"[smoke] scratch folder kept: {scratch}")
        return 1
    finally:
        if not (args.keep or failed):
            import shutil

            shutil.rmtree(scratch, ignore_errors=True)
    print(f"[smoke] all steps passed in {time.monotonic() - started:.0f} s")
    print("\n".join(["[smoke] summary:", *(f"  {line}" for line in results.notes)]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
