"""Autostart for ``photoseek watch``: the files for all three platforms, checked on any OS.

The generated files are parsed back the way the platform would parse them
(systemd's quoting, plistlib, VBScript literals + the Microsoft C runtime's
argv rules) and must give back exactly the argv and environment that went in,
including paths with spaces, ``%``, ``$``, quotes and backslashes.
install/uninstall/status run against a temporary home and a fake runner.
"""

from __future__ import annotations

import os
import plistlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from photoseek.autostart import (
    AutostartError,
    LaunchAgent,
    ServiceSpec,
    SystemdUserUnit,
    WindowsStartupEntry,
    for_platform,
    service_command,
    write_atomic,
)
from photoseek.autostart import common as autostart_common

POSIX_COMMAND = [
    "/opt/my apps/photo seek/bin/photoseek",
    "--data-dir",
    '/home/ann/My Photos/100% "best" of $HOME\\it\'s',
    "--model",
    "/models/a;b %n.json",
    "--pretrained",
    "tab\there",
    "--device",
    ";",
    "watch",
]
WINDOWS_COMMAND = [
    r"C:\Program Files\photoseek\photoseek.exe",
    "--data-dir",
    "C:\\Users\\Zoë\\My Photos\\",
    "--model",
    r'D:\models\say "cheese" 50%.json',
    "--pretrained",
    "%TEMP%\\ckpt",
    "",
    'a\\\\"b',
    "watch",
]
ENVIRONMENT = {"PHOTOSEEK_MODEL": "/m/a b%.json", "QUOTED": 'say "hi" \\ $x %y%'}


class FakeRunner:
    """Records argv; answers from a table of (argv prefix -> result) rules."""

    def __init__(self, rules: dict[tuple[str, ...], tuple[int, str, str]] | None = None) -> None:
        self.calls: list[list[str]] = []
        self.rules = rules or {}

    def __call__(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(argv))
        for prefix, (code, out, err) in self.rules.items():
            if tuple(argv[: len(prefix)]) == prefix:
                return subprocess.CompletedProcess(argv, code, out, err)
        return subprocess.CompletedProcess(argv, 0, "", "")


def missing_tool(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """A runner for a machine without the tool."""
    raise FileNotFoundError(2, "No such file or directory", argv[0])


def spec_for(command: list[str], tmp_path: Path) -> ServiceSpec:
    return ServiceSpec(command=command, environment=dict(ENVIRONMENT), log_dir=tmp_path / "logs")


# --------------------------------------------------------------------------- parsers


def systemd_words(value: str, *, dollar: bool) -> list[str]:
    """Split a unit-file value like systemd: quotes, C escapes, then ``%%`` and ``$$``.

    Words are built as bytes, as systemd does: a literal character adds its
    UTF-8 bytes, ``\\xNN`` adds that one byte; the result is decoded the way
    Python decodes file names (so an undecodable byte comes back as a PEP 383
    surrogate, exactly like the path that went in).
    """
    words: list[str] = []
    i, word, quoted, in_word = 0, bytearray(), False, False
    escapes = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t", "r": "\r"}
    while i < len(value):
        ch = value[i]
        if ch == "\\":
            nxt = value[i + 1]
            if nxt == "x":
                word.append(int(value[i + 2 : i + 4], 16))
                i += 4
                continue
            assert nxt in escapes, f"unknown escape \\{nxt} in {value!r}"
            word += escapes[nxt].encode()
            i += 2
            in_word = True
            continue
        if ch == '"':
            quoted, in_word = not quoted, True
        elif ch in " \t" and not quoted:
            if in_word:
                words.append(os.fsdecode(bytes(word)))
            word, in_word = bytearray(), False
        else:
            word += ch.encode("utf-8")  # a lone surrogate here would be a bug: it fails
            in_word = True
        i += 1
    assert not quoted, f"unterminated quote in {value!r}"
    if in_word:
        words.append(os.fsdecode(bytes(word)))
    return [unescape_pairs(w, "$") if dollar else w for w in map(unescape_specifiers, words)]


def unescape_pairs(word: str, sign: str) -> str:
    """``%%`` -> ``%`` (or ``$$`` -> ``$``); a lone sign would be expanded, so fail."""
    parts = word.split(sign * 2)
    assert all(sign not in part for part in parts), f"unescaped {sign} in {word!r}"
    return sign.join(parts)


def unescape_specifiers(word: str) -> str:
    return unescape_pairs(word, "%")


def unit_sections(text: str) -> dict[str, list[tuple[str, str]]]:
    """Section -> (key, value) lines, in order; comments and blanks skipped."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = ""
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        assert not line.endswith("\\"), "a trailing backslash would continue the line"
        if line.startswith("["):
            current = line.strip("[]")
            sections[current] = []
            continue
        key, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Za-z]+", key), line
        sections[current].append((key, value))
    return sections


def msvcrt_argv(cmdline: str) -> list[str]:
    """Split a Windows command line as the Microsoft C runtime (and CPython) does."""
    assert cmdline.startswith('"')
    end = cmdline.index('"', 1)
    argv, i = [cmdline[1:end]], end + 1
    while i < len(cmdline):
        while i < len(cmdline) and cmdline[i] in " \t":
            i += 1
        if i == len(cmdline):
            break
        arg, quoted = [], False
        while i < len(cmdline) and (quoted or cmdline[i] not in " \t"):
            slashes = 0
            while i < len(cmdline) and cmdline[i] == "\\":
                slashes, i = slashes + 1, i + 1
            if i < len(cmdline) and cmdline[i] == '"':
                arg.append("\\" * (slashes // 2))
                if slashes % 2:
                    arg.append('"')
                else:
                    quoted = not quoted
                i += 1
            else:
                arg.append("\\" * slashes)
                if i < len(cmdline) and (quoted or cmdline[i] not in " \t"):
                    arg.append(cmdline[i])
                    i += 1
        argv.append("".join(arg))
    return argv


def vbs_literal(text: str) -> str:
    """The value of one VBScript string literal spanning all of ``text``."""
    assert text.startswith('"') and text.endswith('"')
    inner = text[1:-1]
    assert '"' not in inner.replace('""', ""), "an undoubled quote ends the literal early"
    return inner.replace('""', '"')


def expand_environment_strings(text: str, env: dict[str, str]) -> str:
    """What ``WshShell.Run`` does to its command line: ``%NAME%`` -> value, single pass."""
    return re.sub(r"%([^%]+)%", lambda m: env.get(m.group(1), m.group(0)), text)


# --------------------------------------------------------------------------- service_command


def test_service_command_prefers_console_script_beside_interpreter(tmp_path, monkeypatch):
    scripts = tmp_path / "venv bin"
    scripts.mkdir()
    script = scripts / "photoseek"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.setattr(autostart_common, "_script_dirs", lambda: [str(scripts)])
    monkeypatch.chdir(tmp_path)
    argv = service_command(Path("lib"), ["--model", "X"])
    assert argv == [str(script), "--data-dir", str(tmp_path / "lib"), "--model", "X", "watch"]


def test_service_command_falls_back_to_python_m(tmp_path, monkeypatch):
    monkeypatch.setattr(autostart_common, "_script_dirs", lambda: [str(tmp_path)])
    assert service_command(None, []) == [
        str(Path(sys.executable).absolute()),
        "-m",
        "photoseek",
        "watch",
    ]


def test_service_command_in_frozen_bundle_uses_executable(monkeypatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/Applications/photoseek.app/Contents/MacOS/photoseek")
    assert service_command(Path("/data dir"), ["--device", "cpu"]) == [
        "/Applications/photoseek.app/Contents/MacOS/photoseek",
        "--data-dir",
        "/data dir",
        "--device",
        "cpu",
        "watch",
    ]


def test_for_platform_refuses_unknown_platform():
    with pytest.raises(AutostartError, match="not supported on freebsd"):
        for_platform("freebsd14")


def test_write_atomic_replaces_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "a" / "b" / "f.txt"
    write_atomic(target, b"one")
    write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["f.txt"]


# --------------------------------------------------------------------------- systemd


def test_systemd_unit_round_trips_command_and_environment(tmp_path):
    unit = for_platform("linux", home=tmp_path, runner=FakeRunner())
    files = unit.files(spec_for(POSIX_COMMAND, tmp_path))
    path = tmp_path / ".config/systemd/user/photoseek.service"
    assert list(files) == [path]
    sections = unit_sections(files[path])
    assert list(sections) == ["Unit", "Service", "Install"]
    service = sections["Service"]
    exec_start = [v for k, v in service if k == "ExecStart"]
    assert len(exec_start) == 1
    assert systemd_words(exec_start[0], dollar=True) == POSIX_COMMAND
    environment = [systemd_words(v, dollar=False) for k, v in service if k == "Environment"]
    assert environment == [[f"{k}={v}"] for k, v in ENVIRONMENT.items()]
    expected = {
        "Type": "simple",
        "Restart": "on-failure",
        "RestartSec": "10",
        "KillSignal": "SIGTERM",
        "TimeoutStopSec": "30",
        "Nice": "10",
        "IOSchedulingClass": "idle",
        "CPUWeight": "20",
    }
    assert expected.items() <= dict(service).items()
    assert dict(sections["Unit"])["Description"] == "photoseek folder watcher"
    assert "After" not in dict(sections["Unit"])
    assert sections["Install"] == [("WantedBy", "default.target")]


def test_systemd_unit_honours_xdg_config_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    unit = for_platform("linux", runner=FakeRunner())
    assert list(unit.files(spec_for(POSIX_COMMAND, tmp_path))) == [
        tmp_path / "cfg/systemd/user/photoseek.service"
    ]


def test_systemd_unit_refuses_relative_program(tmp_path):
    unit = for_platform("linux", home=tmp_path, runner=FakeRunner())
    with pytest.raises(AutostartError, match="absolute"):
        unit.files(spec_for(["photoseek", "watch"], tmp_path))


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze absent")
def test_systemd_analyze_verify_accepts_unit(tmp_path):
    program = tmp_path / "my apps" / "photo seek"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    command = [str(program), *POSIX_COMMAND[1:]]
    unit = SystemdUserUnit(tmp_path / "units", FakeRunner())
    ((path, text),) = unit.files(spec_for(command, tmp_path)).items()
    write_atomic(path, text.encode())
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "HOME": str(tmp_path)}
    result = subprocess.run(
        ["systemd-analyze", "--user", "--man=no", "verify", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )
    if "Failed to initialize manager" in result.stderr:
        pytest.skip(f"systemd-analyze cannot run here: {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr
    assert "photoseek.service" not in result.stderr, result.stderr


def test_systemd_install_uninstall_with_fake_runner(tmp_path):
    runner = FakeRunner(
        {("systemctl", "--user", "disable"): (1, "", "Unit photoseek.service not loaded.")}
    )
    unit = for_platform("linux", home=tmp_path, runner=runner)
    path = tmp_path / ".config/systemd/user/photoseek.service"
    lines = unit.install(spec_for(POSIX_COMMAND, tmp_path))
    assert path.is_file()
    assert path.read_text() == unit.files(spec_for(POSIX_COMMAND, tmp_path))[path]
    assert runner.calls == [
        ["systemctl", "--version"],
        ["systemctl", "--user", "daemon-reload"],
        ["systemctl", "--user", "enable", "photoseek.service"],
        ["systemctl", "--user", "restart", "photoseek.service"],
    ]
    assert any("journalctl --user -u photoseek" in line for line in lines)

    runner.rules = {}
    runner.calls.clear()
    unit.uninstall()
    assert not path.exists()
    assert runner.calls == [
        ["systemctl", "--user", "disable", "--now", "photoseek.service"],
        ["systemctl", "--user", "daemon-reload"],
    ]

    runner.rules = {("systemctl", "--user", "disable"): (1, "", "Unit file does not exist.")}
    runner.calls.clear()
    assert unit.uninstall() == ["photoseek.service was not installed"]
    assert runner.calls == [["systemctl", "--user", "disable", "--now", "photoseek.service"]]


def test_systemd_install_without_systemctl_writes_nothing(tmp_path):
    unit = for_platform("linux", home=tmp_path, runner=missing_tool)
    with pytest.raises(AutostartError, match="systemctl not found: is this a systemd system"):
        unit.install(spec_for(POSIX_COMMAND, tmp_path))
    assert not (tmp_path / ".config").exists()
    assert unit.status() == "not installed"
    assert unit.uninstall() == ["photoseek.service was not installed"]


def test_systemd_install_reports_a_failing_systemctl(tmp_path):
    runner = FakeRunner(
        {("systemctl", "--user", "daemon-reload"): (1, "", "Failed to connect to bus: No medium")}
    )
    unit = for_platform("linux", home=tmp_path, runner=runner)
    with pytest.raises(AutostartError, match="daemon-reload` failed: Failed to connect to bus"):
        unit.install(spec_for(POSIX_COMMAND, tmp_path))


@pytest.mark.parametrize(
    ("code", "state", "expected"),
    [(0, "active", "installed, running"), (3, "failed", "installed, not running (failed;")],
)
def test_systemd_status(tmp_path, code, state, expected):
    runner = FakeRunner({("systemctl", "--user", "is-active"): (code, state + "\n", "")})
    unit = for_platform("linux", home=tmp_path, runner=runner)
    assert unit.status().startswith("not installed")  # "(but ... is active)" when it is
    unit.install(spec_for(POSIX_COMMAND, tmp_path))
    assert unit.status().startswith(expected)
    assert runner.calls[-1] == ["systemctl", "--user", "is-active", "photoseek.service"]


# --------------------------------------------------------------------------- launchd


def test_launch_agent_plist_parses_back(tmp_path):
    agent = for_platform("darwin", home=tmp_path, runner=FakeRunner())
    files = agent.files(spec_for(POSIX_COMMAND, tmp_path))
    path = tmp_path / "Library/LaunchAgents/com.photoseek.watch.plist"
    assert list(files) == [path]
    plist = plistlib.loads(files[path].encode())
    log_file = str(tmp_path / "logs" / "photoseek-watch-service.log")
    assert plist == {
        "Label": "com.photoseek.watch",
        "ProgramArguments": POSIX_COMMAND,
        "EnvironmentVariables": ENVIRONMENT,
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},
        "ThrottleInterval": 10,
        "ProcessType": "Background",
        "LowPriorityIO": True,
        "Nice": 10,
        "ExitTimeOut": 30,
        "StandardOutPath": log_file,
        "StandardErrorPath": log_file,
    }


def test_launch_agent_install_uninstall(tmp_path):
    runner = FakeRunner({("launchctl", "bootout"): (3, "", "Boot-out failed: 3: No such process")})
    agent = LaunchAgent(tmp_path / "LaunchAgents", runner, uid=501)
    plist = tmp_path / "LaunchAgents/com.photoseek.watch.plist"
    agent.install(spec_for(POSIX_COMMAND, tmp_path))
    assert plist.is_file() and (tmp_path / "logs").is_dir()
    assert runner.calls == [
        ["launchctl", "bootout", "gui/501/com.photoseek.watch"],
        ["launchctl", "enable", "gui/501/com.photoseek.watch"],
        ["launchctl", "bootstrap", "gui/501", str(plist)],
    ]
    runner.calls.clear()
    assert agent.uninstall() == [f"removed {plist}"]
    assert not plist.exists()
    assert runner.calls == [["launchctl", "bootout", "gui/501/com.photoseek.watch"]]
    assert agent.uninstall() == ["com.photoseek.watch was not installed"]


def test_launch_agent_falls_back_to_load_then_fails_clearly(tmp_path):
    runner = FakeRunner({("launchctl", "bootstrap"): (5, "", "Bootstrap failed: 5: I/O error")})
    agent = LaunchAgent(tmp_path / "LaunchAgents", runner, uid=501)
    agent.install(spec_for(POSIX_COMMAND, tmp_path))
    assert runner.calls[-1][:3] == ["launchctl", "load", "-w"]
    runner.rules[("launchctl", "load")] = (1, "", "Load failed: 5")
    with pytest.raises(AutostartError, match="I/O error; load -w: Load failed"):
        agent.install(spec_for(POSIX_COMMAND, tmp_path))


def test_launch_agent_status(tmp_path):
    runner = FakeRunner({("launchctl", "print"): (113, "", "Could not find service")})
    agent = LaunchAgent(tmp_path / "LaunchAgents", runner, uid=501)
    assert agent.status() == "not installed"
    agent.install(spec_for(POSIX_COMMAND, tmp_path))
    assert agent.status().startswith("installed, not running (not loaded)")
    runner.rules = {("launchctl", "print"): (0, "\tstate = running\n\tpid = 42\n", "")}
    assert agent.status().startswith("installed, running")
    assert runner.calls[-1] == ["launchctl", "print", "gui/501/com.photoseek.watch"]


def test_launch_agent_without_launchctl(tmp_path):
    agent = for_platform("darwin", home=tmp_path, runner=missing_tool)
    with pytest.raises(AutostartError, match="launchctl not found"):
        agent.install(spec_for(POSIX_COMMAND, tmp_path))


# --------------------------------------------------------------------------- Windows


def parse_vbs(text: str) -> tuple[dict[str, str], str]:
    """The environment a startup script sets and the command line it runs."""
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    env: dict[str, str] = {}
    run_line = ""
    for line in text.split("\r\n"):
        if m := re.fullmatch(r'env\(("[A-Za-z_][A-Za-z0-9_]*")\) = (".*")', line):
            env[vbs_literal(m.group(1))] = vbs_literal(m.group(2))
        elif m := re.fullmatch(r"shell\.Run (\".*\"), 0, False", line):
            run_line = vbs_literal(m.group(1))
    assert run_line
    return env, run_line


def test_windows_script_round_trips_argv_and_environment(tmp_path):
    entry = for_platform("win32", home=tmp_path)
    files = entry.files(spec_for(WINDOWS_COMMAND, tmp_path))
    path = tmp_path / "AppData/Roaming/Microsoft/Windows/Start Menu/Programs/Startup"
    path /= "photoseek-watch.vbs"
    assert list(files) == [path]
    env, run_line = parse_vbs(files[path])
    assert {k: env[k] for k in ENVIRONMENT} == ENVIRONMENT
    # Every % in the command line is part of the placeholder the script defines.
    assert "%" not in run_line.replace("%PHOTOSEEK_PERCENT_SIGN%", "")
    assert msvcrt_argv(expand_environment_strings(run_line, env)) == WINDOWS_COMMAND


def test_windows_install_writes_utf16_and_uninstall_is_idempotent(tmp_path):
    entry = for_platform("win32", home=tmp_path)
    spec = spec_for(WINDOWS_COMMAND, tmp_path)
    ((path, text),) = entry.files(spec).items()
    assert entry.status() == "not installed"
    lines = entry.install(spec)
    raw = path.read_bytes()
    assert raw.startswith(b"\xff\xfe") and raw[2:].decode("utf-16-le") == text
    assert any("next logon" in line for line in lines)
    assert entry.status().startswith("installed (starts at next logon)")
    assert entry.uninstall()[0] == f"removed {path}"
    assert not path.exists()
    assert entry.uninstall() == ["photoseek-watch.vbs was not installed"]


def test_windows_uses_appdata_when_home_not_given(tmp_path, monkeypatch):
    monkeypatch.setenv("APPDATA", str(tmp_path / "Roaming"))
    entry = for_platform("win32")
    assert isinstance(entry, WindowsStartupEntry)
    assert entry.script_path() == (
        tmp_path / "Roaming/Microsoft/Windows/Start Menu/Programs/Startup/photoseek-watch.vbs"
    )


@pytest.mark.parametrize(
    ("command", "match"),
    [
        ([r"C:\p\photoseek.exe", "a\nb"], "line break"),
        (["photoseek.exe", "watch"], "absolute"),
        (['C:\\p"q\\photoseek.exe', "watch"], "cannot contain a quote"),
    ],
)
def test_windows_refuses_unrepresentable_commands(tmp_path, command, match):
    entry = for_platform("win32", home=tmp_path)
    with pytest.raises(AutostartError, match=match):
        entry.files(spec_for(command, tmp_path))


@pytest.mark.parametrize(
    ("platform", "command"),
    [("linux", POSIX_COMMAND), ("darwin", POSIX_COMMAND), ("win32", WINDOWS_COMMAND)],
)
def test_invalid_environment_names_are_refused(tmp_path, platform, command):
    target = for_platform(platform, home=tmp_path, runner=FakeRunner())
    with pytest.raises(AutostartError, match="invalid environment variable name"):
        target.files(ServiceSpec(command, {"BAD NAME": "x"}, tmp_path))


# --------------------------------------------------------------------------- odd bytes

LATIN1_DIR = os.fsdecode(b"/home/ann/caf\xe9 photos")  # not valid UTF-8
LATIN1_COMMAND = [
    "/opt/photoseek/bin/photoseek",
    "--data-dir",
    LATIN1_DIR,
    "--pretrained",
    os.fsdecode(b"/models/\xff\xfe \xc3\xa9 50%.safetensors"),  # bad bytes, then a real "é"
    "watch",
]


def test_autostart_error_is_a_photoseek_error():
    from photoseek.core.errors import PhotoseekError

    assert issubclass(AutostartError, PhotoseekError)


def test_systemd_unit_carries_undecodable_bytes_exactly(tmp_path):
    unit = for_platform("linux", home=tmp_path, runner=FakeRunner())
    (text,) = unit.files(spec_for(LATIN1_COMMAND, tmp_path)).values()
    text.encode("utf-8")  # the unit file is valid UTF-8 ...
    (exec_start,) = [v for k, v in unit_sections(text)["Service"] if k == "ExecStart"]
    assert '"--data-dir" "/home/ann/caf\\xe9 photos"' in exec_start
    assert "\\xff\\xfe é 50%%" in exec_start
    words = systemd_words(exec_start, dollar=True)
    assert words == LATIN1_COMMAND  # ... and systemd gets back the very bytes
    assert [os.fsencode(w) for w in words] == [os.fsencode(w) for w in LATIN1_COMMAND]


def test_systemd_install_with_undecodable_data_dir_writes_the_unit(tmp_path):
    runner = FakeRunner()
    unit = for_platform("linux", home=tmp_path, runner=runner)
    command = service_command(Path(LATIN1_DIR), ["--device", "cpu"])
    lines = unit.install(ServiceSpec(command, {}, tmp_path / "logs"))
    path = tmp_path / ".config/systemd/user/photoseek.service"
    assert b"caf\\xe9 photos" in path.read_bytes()
    assert lines[0] == f"wrote {path}"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze absent")
def test_systemd_analyze_finds_a_program_under_an_undecodable_path(tmp_path):
    """systemd unescapes ``\\xe9`` to the byte: it finds a program whose folder has that byte."""
    program = tmp_path / os.fsdecode(b"caf\xe9 apps") / "photoseek"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    unit = SystemdUserUnit(tmp_path / "units", FakeRunner())
    spec = ServiceSpec([str(program), *LATIN1_COMMAND[1:]], {}, tmp_path)
    ((path, text),) = unit.files(spec).items()
    write_atomic(path, text.encode())
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "HOME": str(tmp_path)}
    result = subprocess.run(
        ["systemd-analyze", "--user", "--man=no", "verify", str(path)],
        capture_output=True,
        env=env,
        timeout=30,
        check=False,
    )
    stderr = result.stderr.decode("utf-8", "backslashreplace")
    if "Failed to initialize manager" in stderr:
        pytest.skip(f"systemd-analyze cannot run here: {stderr.strip()}")
    assert result.returncode == 0, stderr
    assert "is not executable" not in stderr and "Invalid" not in stderr, stderr


def test_systemd_refuses_undecodable_environment_value(tmp_path):
    unit = for_platform("linux", home=tmp_path, runner=FakeRunner())
    spec = ServiceSpec(POSIX_COMMAND, {"PHOTOSEEK_MODEL": LATIN1_DIR}, tmp_path)
    with pytest.raises(AutostartError) as caught:
        unit.files(spec)
    assert str(caught.value) == (
        "the path $'/home/ann/caf\\xe9 photos' is not valid UTF-8, which a systemd "
        "Environment= setting cannot hold: choose a data folder (--data-dir) and model files "
        "whose names are UTF-8"
    )


@pytest.mark.parametrize(
    ("platform", "container"),
    [("darwin", "a LaunchAgent plist"), ("win32", "a Windows startup script")],
)
def test_text_only_formats_refuse_undecodable_paths(tmp_path, platform, container):
    command = LATIN1_COMMAND
    if platform == "win32":
        command = [r"C:\photoseek\photoseek.exe", "--data-dir", "C:\\caf\udce9", "watch"]
    target = for_platform(platform, home=tmp_path, runner=FakeRunner())
    with pytest.raises(AutostartError) as caught:
        target.install(spec_for(command, tmp_path))
    message = str(caught.value)
    message.encode("utf-8")
    assert "is not valid UTF-8, which " + container + " cannot hold" in message
    assert "choose a data folder (--data-dir)" in message
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]  # nothing written
    assert target.status() == "not installed"


def test_launch_agent_refuses_an_undecodable_log_dir(tmp_path):
    agent = for_platform("darwin", home=tmp_path, runner=FakeRunner())
    spec = ServiceSpec(POSIX_COMMAND, {}, tmp_path / os.fsdecode(b"l\xf6gs"))
    with pytest.raises(AutostartError, match="not valid UTF-8, which a LaunchAgent plist"):
        agent.files(spec)


# --------------------------------------------------------------------------- failed installs


def test_systemd_failed_enable_removes_the_unit_it_wrote(tmp_path):
    runner = FakeRunner(
        {("systemctl", "--user", "daemon-reload"): (1, "", "Failed to connect to bus: No medium")}
    )
    unit = for_platform("linux", home=tmp_path, runner=runner)
    path = tmp_path / ".config/systemd/user/photoseek.service"
    with pytest.raises(AutostartError) as caught:
        unit.install(spec_for(POSIX_COMMAND, tmp_path))
    assert str(caught.value).endswith(f"; removed {path} again")
    assert "Failed to connect to bus" in str(caught.value)
    assert not path.exists()
    runner.rules = {("systemctl", "--user", "is-active"): (3, "inactive\n", "")}
    assert unit.status() == "not installed"


def test_systemd_failed_restart_undoes_the_enable(tmp_path):
    runner = FakeRunner({("systemctl", "--user", "restart"): (1, "", "Job failed")})
    unit = for_platform("linux", home=tmp_path, runner=runner)
    wants = tmp_path / ".config/systemd/user/default.target.wants/photoseek.service"
    wants.parent.mkdir(parents=True)
    wants.symlink_to("../photoseek.service")  # what a real `enable` would have made
    with pytest.raises(AutostartError, match=r"restart photoseek\.service` failed: Job failed"):
        unit.install(spec_for(POSIX_COMMAND, tmp_path))
    assert ["systemctl", "--user", "disable", "photoseek.service"] in runner.calls
    assert runner.calls[-1] == ["systemctl", "--user", "daemon-reload"]
    assert not wants.is_symlink()
    assert not (tmp_path / ".config/systemd/user/photoseek.service").exists()


def test_systemd_failed_reinstall_puts_the_previous_unit_back(tmp_path):
    runner = FakeRunner()
    unit = for_platform("linux", home=tmp_path, runner=runner)
    unit.install(spec_for(POSIX_COMMAND, tmp_path))
    path = tmp_path / ".config/systemd/user/photoseek.service"
    before = path.read_bytes()
    runner.rules = {("systemctl", "--user", "restart"): (1, "", "Job failed")}
    runner.calls.clear()
    with pytest.raises(AutostartError) as caught:
        unit.install(spec_for([*POSIX_COMMAND[:-1], "--once", "watch"], tmp_path))
    assert str(caught.value).endswith(f"; put the previous {path} back")
    assert path.read_bytes() == before
    assert ["systemctl", "--user", "disable", "photoseek.service"] not in runner.calls


def test_unit_that_cannot_be_written_is_one_clear_error(tmp_path):
    (tmp_path / ".config").write_text("a file where a folder should be")
    unit = for_platform("linux", home=tmp_path, runner=FakeRunner())
    with pytest.raises(AutostartError, match=r"^cannot write .*photoseek\.service \(") as caught:
        unit.install(spec_for(POSIX_COMMAND, tmp_path))
    assert "nothing was written" in str(caught.value)


def test_launch_agent_failed_load_removes_the_plist(tmp_path):
    runner = FakeRunner(
        {
            ("launchctl", "bootstrap"): (5, "", "Bootstrap failed: 5: I/O error"),
            ("launchctl", "load"): (1, "", "Load failed: 5"),
        }
    )
    agent = LaunchAgent(tmp_path / "LaunchAgents", runner, uid=501)
    plist = tmp_path / "LaunchAgents/com.photoseek.watch.plist"
    with pytest.raises(AutostartError) as caught:
        agent.install(spec_for(POSIX_COMMAND, tmp_path))
    assert str(caught.value).endswith(f"; removed {plist} again")
    assert not plist.exists()
    assert agent.status() == "not installed"


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_launch_agent_log_dir_is_private(tmp_path):
    agent = LaunchAgent(tmp_path / "LaunchAgents", FakeRunner(), uid=501)
    agent.install(spec_for(POSIX_COMMAND, tmp_path))
    assert (tmp_path / "logs").stat().st_mode & 0o777 == 0o700
