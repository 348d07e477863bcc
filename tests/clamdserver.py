"""A real ClamAV daemon for the scanning tests: Debian's clamd with a signature database of one
test signature (EICAR's, by its MD5), since no signature download is possible here. It starts
in well under a second with so small a database."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.processes import running

#: The EICAR anti-virus test file: harmless, and every scanner's agreed test signature.
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
#: ClamAV's hash signature format: MD5:size:name.
SIGNATURES = "44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature\n"


def clamd_binary() -> str | None:
    return shutil.which("clamd") or (
        "/usr/sbin/clamd" if Path("/usr/sbin/clamd").exists() else None
    )


@contextmanager
def running_clamd(folder: Path) -> Iterator[str]:
    """The path of a fresh clamd's Unix socket until the block ends."""
    binary = clamd_binary()
    if binary is None:
        raise RuntimeError("clamd is not installed (apt install clamav-daemon)")
    database = folder / "db"
    database.mkdir(parents=True, exist_ok=True)
    (database / "test.hdb").write_text(SIGNATURES)
    sock = folder / "clamd.sock"
    config = folder / "clamd.conf"
    config.write_text(
        f"LocalSocket {sock}\n"
        f"DatabaseDirectory {database}\n"
        f"TemporaryDirectory {folder}\n"
        f"LogFile {folder / 'clamd.log'}\n"
        "Foreground yes\n"
        "StreamMaxLength 1M\n"  # small, so a test can go over it
        "User root\n"
    )

    def answers() -> bool:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
                connection.settimeout(2)
                connection.connect(str(sock))
                connection.sendall(b"zPING\0")
                return connection.recv(16).startswith(b"PONG")
        except OSError:
            return False

    command = [binary, f"--config-file={config}"]
    with running(command, ready=answers, what="clamd", log=folder / "clamd.out"):
        yield str(sock)
