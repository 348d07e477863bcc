"""Virus scanning of uploads through a ClamAV daemon (clamd), when one is configured.

The file is streamed to clamd with its INSTREAM command (a length-prefixed chunk at a time,
so it never sits whole in memory) over a Unix socket (``CLAMD_SOCKET``) or TCP
(``CLAMD_ADDRESS``, ``host:port``). The protocol is four lines of code; no client library
is kept up to date enough to be worth a dependency. A scanner that cannot be reached, or that
cannot finish, fails closed: the upload is refused and nothing kept.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Mapping
from typing import Any, BinaryIO

from portfolio.files.storage import CHUNK_SIZE

#: Seconds to wait for clamd to answer (a large file takes a few seconds to scan).
TIMEOUT = 120


class VirusFound(Exception):
    """The scanner named what it found."""

    def __init__(self, signature: str) -> None:
        self.signature = signature
        super().__init__(signature)


class ScannerUnavailable(Exception):
    """No verdict: clamd could not be reached, or could not scan the file."""


class FileTooLargeToScan(ScannerUnavailable):
    """Over clamd's StreamMaxLength: it will never scan this file."""


def scanner_configured(config: Mapping[str, Any]) -> bool:
    return bool(config.get("CLAMD_SOCKET") or config.get("CLAMD_ADDRESS"))


def _connect(config: Mapping[str, Any]) -> socket.socket:
    if config.get("CLAMD_SOCKET"):
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            connection.settimeout(TIMEOUT)
            connection.connect(config["CLAMD_SOCKET"])
        except OSError:
            connection.close()
            raise
        return connection
    address = str(config["CLAMD_ADDRESS"])
    host, _, port = address.rpartition(":")
    if not port.isdigit():
        raise OSError(f"CLAMD_ADDRESS={address!r} names no port: use host:port (localhost:3310)")
    return socket.create_connection((host or "localhost", int(port)), timeout=TIMEOUT)


def scan(stream: BinaryIO, config: Mapping[str, Any]) -> None:
    """Return if clamd finds ``stream`` clean; VirusFound or ScannerUnavailable otherwise."""
    reply = b""
    try:
        with _connect(config) as connection:
            connection.sendall(b"zINSTREAM\0")
            try:
                while chunk := stream.read(CHUNK_SIZE):
                    connection.sendall(struct.pack("!L", len(chunk)) + chunk)
                connection.sendall(struct.pack("!L", 0))
            except (BrokenPipeError, ConnectionResetError):
                pass  # clamd stopped reading (a file over its limit): its reply says why
            while not reply.endswith(b"\0"):
                received = connection.recv(4096)
                if not received:
                    break
                reply += received
    except OSError as error:
        if not reply:
            raise ScannerUnavailable(f"the virus scanner could not be reached ({error})") from error
    answer = reply.rstrip(b"\0").decode("utf-8", "replace").strip()
    if "size limit exceeded" in answer:
        raise FileTooLargeToScan(answer)
    verdict = answer.partition(": ")[2]
    if verdict == "OK":
        return
    if verdict.endswith(" FOUND"):
        raise VirusFound(verdict.removesuffix(" FOUND"))
    raise ScannerUnavailable(f"the virus scanner could not scan it ({answer or 'no answer'})")
