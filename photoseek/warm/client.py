"""Ask a running service or app to answer ``photoseek search``; None sends it down the cold path.

Runs before the command line is parsed and before photoseek's modules load,
so it reads only what it needs from ``argv`` (the global options, the
command word) and imports the standard library's light modules. Only
``search`` goes warm; ``PHOTOSEEK_NO_WARM=1`` keeps every search cold.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass

from photoseek.warm.address import socket_path

DISABLE_VARIABLE = "PHOTOSEEK_NO_WARM"
WARM_COMMANDS = frozenset({"search"})
FORWARDED_VARIABLES = (
    "PHOTOSEEK_DATA_DIR",
    "PHOTOSEEK_MODEL",
    "PHOTOSEEK_PRETRAINED",
    "PHOTOSEEK_DEVICE",
    "PHOTOSEEK_PRECISION",
)
CONNECT_TIMEOUT_S = 0.5
ANSWER_TIMEOUT_S = 60.0  # a search on a busy service; the cold path would be no faster
PROTOCOL = 1
_VALUED_GLOBALS = frozenset({"--data-dir", "--model", "--pretrained", "--device", "--precision"})


@dataclass(frozen=True)
class Answer:
    """What the warm search printed, and its exit code."""

    code: int
    stdout: str
    stderr: str


def ask(argv: list[str]) -> Answer | None:
    """The running service's answer to ``argv``, or None: no server, declined, or any failure."""
    if os.environ.get(DISABLE_VARIABLE, "").strip() not in ("", "0"):
        return None
    found = _command_and_data_dir(argv)
    if found is None or found[0] not in WARM_COMMANDS:
        return None
    path = socket_path(found[1])
    if path is None or not os.path.exists(path):
        return None
    request = {
        "v": PROTOCOL,
        "argv": argv,
        "cwd": os.getcwd(),
        "env": {name: os.environ[name] for name in FORWARDED_VARIABLES if name in os.environ},
    }
    try:
        reply = _exchange(path, json.dumps(request).encode("utf-8") + b"\n")
    except (OSError, ValueError):
        return None
    if not isinstance(reply, dict) or reply.get("v") != PROTOCOL or "code" not in reply:
        return None  # declined (another model, an image query ...), or not ours
    return Answer(int(reply["code"]), str(reply.get("stdout", "")), str(reply.get("stderr", "")))


def _platform_data_dir() -> str:
    import platformdirs  # 50 ms: only where no folder is named

    return str(platformdirs.user_data_dir("photoseek", appauthor=False))


def _exchange(path: str, request: bytes) -> object:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(CONNECT_TIMEOUT_S)
        connection.connect(path)
        connection.settimeout(ANSWER_TIMEOUT_S)
        connection.sendall(request)
        connection.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := connection.recv(1 << 16):
            chunks.append(chunk)
    return json.loads(b"".join(chunks).decode("utf-8"))


def _command_and_data_dir(argv: list[str]) -> tuple[str, str] | None:
    """The command word and the library folder (absolute) the global options name.

    None where the options are not plain (an unknown option before the
    command, ``--help``): the full parser handles those. Without
    ``--data-dir`` or the environment, the platform's data folder, by the
    same rule as :func:`photoseek.paths.resolve_paths`.
    """
    data_dir = os.environ.get("PHOTOSEEK_DATA_DIR") or None
    index = 0
    while index < len(argv):
        word = argv[index]
        name, equals, value = word.partition("=")
        if name in _VALUED_GLOBALS:
            if not equals:
                index += 1
                if index >= len(argv):
                    return None
                value = argv[index]
            if name == "--data-dir":
                data_dir = value
        elif word in ("-v", "-vv", "--verbose"):
            pass
        elif word.startswith("-"):
            return None
        else:
            return word, os.path.realpath(os.path.expanduser(data_dir or _platform_data_dir()))
        index += 1
    return None
