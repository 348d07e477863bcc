"""A large upload through the running server, beside a plain copy over a local socket.

The learner's browser sends a file ahead of the item form (``POST /enrolments/<id>/uploads``,
multipart, the CSRF token in ``X-CSRFToken``); here ``http.client`` does the same, streaming
the body from disk. Before the upload each gunicorn worker's peak RSS (VmHWM) is reset to its
current RSS (``5 > /proc/<pid>/clear_refs``); after it, the growth of VmHWM is how much memory
the upload took in the worker that handled it.

The floor is the same bytes sent over a loopback socket to a thread that writes them to a
file in the same folder as the evidence store and syncs it, as the store does: no HTTP, no
multipart parsing, no hashing.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import threading
import time
import uuid
from pathlib import Path

from tests.benchmarks.load import Client, LoadError, csrf_token, log_in
from tests.benchmarks.server import Server, reset_peak, status_kb

CHUNK = 64 * 1024
MB = 1024 * 1024


def make_payload(path: Path, megabytes: int) -> Path:
    """``megabytes`` MB of random bytes (stored as they are: incompressible, never deduplicated
    by accident); each upload puts its own PDF header in front."""
    if not path.exists() or path.stat().st_size != megabytes * MB:
        with path.open("wb") as out:
            for _ in range(megabytes):
                out.write(os.urandom(MB))
    return path


def _chunks(head: bytes, payload: Path, tail: bytes):
    yield head
    with payload.open("rb") as fp:
        while chunk := fp.read(CHUNK):
            yield chunk
    yield tail


def upload(server: Server, email: str, password: str, enrolment_id: int, payload: Path) -> dict:
    cookies = log_in(server.host, server.port, email, password)
    client = Client(server.host, server.port, cookies)
    status, page, _ = client.request("GET", f"/enrolments/{enrolment_id}/evidence/new")
    if status != 200:
        raise LoadError(f"the new item form answered {status}")
    token = csrf_token(page)
    cookies = client.cookies  # the form put its CSRF secret in the session
    client.close()

    boundary = uuid.uuid4().hex
    header = f"%PDF-1.4\n%{uuid.uuid4().hex}\n".encode()
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="site-video-record.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode() + header
    tail = f"\r\n--{boundary}--\r\n".encode()
    file_size = len(header) + payload.stat().st_size
    length = len(head) + payload.stat().st_size + len(tail)

    workers = server.worker_pids()
    reset = all(reset_peak(pid) for pid in workers)
    before = {pid: status_kb(pid, "VmHWM") for pid in workers}
    rss_before = {pid: status_kb(pid, "VmRSS") for pid in workers}

    connection = http.client.HTTPConnection(server.host, server.port, timeout=600)
    try:
        started = time.perf_counter()
        connection.request(
            "POST",
            f"/enrolments/{enrolment_id}/uploads",
            body=_chunks(head, payload, tail),
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Content-Length": str(length),
                "X-CSRFToken": token,
                "Accept": "application/json",
                "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
            },
        )
        response = connection.getresponse()
        body = response.read()
        seconds = time.perf_counter() - started
    finally:
        connection.close()
    if response.status != 201:
        raise LoadError(f"the upload answered {response.status}: {body[:300]!r}")
    answer = json.loads(body)
    if answer.get("size") != file_size:
        raise LoadError(f"the server stored {answer.get('size')} bytes, not {file_size}")

    after = {pid: status_kb(pid, "VmHWM") for pid in workers if Path(f"/proc/{pid}").exists()}
    growth = {pid: after[pid] - before[pid] for pid in after}
    handler = max(growth, key=lambda pid: growth[pid])
    return {
        "bytes": file_size,
        "seconds": seconds,
        "mb_per_s": file_size / MB / seconds,
        "peak_reset": reset,
        "worker_rss_before_mb": rss_before[handler] / 1024,
        "worker_peak_before_mb": before[handler] / 1024,
        "worker_peak_after_mb": after[handler] / 1024,
        "worker_peak_growth_mb": growth[handler] / 1024,
        "workers": len(workers),
    }


def loopback_copy(payload: Path, folder: Path) -> dict:
    """The same bytes over a local TCP socket into a file, synced: no app."""
    target = folder / f"loopback-{uuid.uuid4().hex}.part"
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    received: list[int] = []
    finished: list[float] = []

    def receive() -> None:
        connection, _ = listener.accept()
        size = 0
        buffer = bytearray(CHUNK)
        view = memoryview(buffer)
        with connection, target.open("wb") as out:
            while n := connection.recv_into(buffer):
                out.write(view[:n])
                size += n
            out.flush()
            os.fsync(out.fileno())
        received.append(size)
        finished.append(time.perf_counter())

    thread = threading.Thread(target=receive)
    thread.start()
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as sender, payload.open("rb") as fp:
        while chunk := fp.read(CHUNK):
            sender.sendall(chunk)
    thread.join()
    listener.close()
    target.unlink()
    seconds = finished[0] - started
    return {"bytes": received[0], "seconds": seconds, "mb_per_s": received[0] / MB / seconds}
