"""Two app servers and a job worker, as processes, sharing a database, an S3-compatible store
(SeaweedFS) and a queue (Redis): what one server takes in, the other serves, and a bundle
asked for on one is built by the worker and downloaded from the other."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from portfolio.config import PROJECT_ROOT
from portfolio.demo.samples import pdf_bytes
from portfolio.extensions import db
from portfolio.models import AssessmentState, Enrolment, EvidenceFile, User
from tests.benchmarks.dataset import Instance
from tests.benchmarks.load import Client, csrf_token, log_in
from tests.benchmarks.server import gunicorn
from tests.conftest import database_url

pytestmark = pytest.mark.slow

ADMIN = ("admin@example.org", "admin-demo-pass")
LEARNER = ("learner@example.org", "learner-demo-pass")


class Clients(list):
    """The HTTP clients a test opened, closed together at its end."""

    def add(self, client: Client) -> Client:
        self.append(client)
        return client

    def close(self) -> None:
        for client in self:
            client.close()


def form_post(client: Client, path: str, fields: dict[str, str]):
    return client.request(
        "POST",
        path,
        body=urlencode(fields).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def multipart(fields: dict[str, str], name: str, filename: str, content: bytes):
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
        f'filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n'.encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def test_two_app_servers_and_a_worker_share_evidence_and_bundles(
    tmp_path: Path, s3_server, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = {
        **{key: str(value) for key, value in s3_server.fresh().items()},
        "QUEUE_URL": redis_url,
        "AUDIT_KEY": "several-nodes-audit-key",
    }
    for key, value in settings.items():
        monkeypatch.setenv(key, value)  # the generator below writes to the same store
    instance = Instance("nodes", database_url(tmp_path), tmp_path / "shared", fast_hash=True)
    instance.create()
    app = instance.app()
    assert app.test_cli_runner().invoke(args=["demo", "accounts"]).exit_code == 0  # the admin
    instance.grow(20, 2)  # a cohort around them, some of it decided
    with app.app_context():
        draft = db.session.scalar(
            select(Enrolment.id)
            .join(User, User.id == Enrolment.learner_id)
            .where(User.email == LEARNER[0], Enrolment.state == AssessmentState.DRAFT)
            .order_by(Enrolment.id)
            .limit(1)
        )
        db.session.remove()

    node_settings = [
        {**settings, "PORTFOLIO_INSTANCE_PATH": str(tmp_path / name)} for name in ("a", "b")
    ]
    worker_log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "portfolio", "jobs", "worker"],
        cwd=PROJECT_ROOT,
        env=instance.environment(**settings, PORTFOLIO_INSTANCE_PATH=str(tmp_path / "w")),
        stdout=worker_log,
        stderr=subprocess.STDOUT,
    )
    clients = Clients()
    try:
        with (
            gunicorn(instance, tmp_path, workers=1, settings=node_settings[0]) as a,
            gunicorn(instance, tmp_path, workers=1, settings=node_settings[1]) as b,
        ):
            # A learner hands a file to node A; node B sends it back, byte for byte.
            cookies = log_in(a.host, a.port, *LEARNER)
            on_a = clients.add(Client(a.host, a.port, cookies))
            new_item = f"/enrolments/{draft}/evidence/new"
            status, page, _ = on_a.request("GET", new_item)
            assert status == 200
            pdf = pdf_bytes(f"Toolbox talk {uuid.uuid4().hex}")
            body, content_type = multipart(
                {
                    "csrf_token": csrf_token(page),
                    "title": "Toolbox talk",
                    "evidence_type": "report",
                    "work_date": "2026-10-01",
                },
                "files",
                "toolbox.pdf",
                pdf,
            )
            status, _, _ = on_a.request(
                "POST", new_item, body=body, headers={"Content-Type": content_type}
            )
            assert status == 302
            with app.app_context():
                stored = db.session.scalar(
                    select(EvidenceFile).where(
                        EvidenceFile.sha256 == hashlib.sha256(pdf).hexdigest()
                    )
                )
                assert stored is not None and stored.storage_backend == "s3"
                file_id = stored.id
            on_b = clients.add(Client(b.host, b.port, on_a.cookies))
            status, sent, _ = on_b.request("GET", f"/files/{file_id}")
            assert status == 200 and sent == pdf

            # An admin asks node A for a bundle; node B follows the worker's progress and
            # sends the finished ZIP.
            admin_a = clients.add(Client(a.host, a.port, log_in(a.host, a.port, *ADMIN)))
            status, page, _ = admin_a.request("GET", "/admin/exports")
            status, _, response = form_post(
                admin_a,
                "/admin/exports/bundles",
                {"csrf_token": csrf_token(page), "b-unit": "TLII5018"},
            )
            assert status == 302, status
            job = response.headers["Location"].rsplit("/", 1)[-1]
            admin_b = clients.add(Client(b.host, b.port, admin_a.cookies))
            deadline = time.monotonic() + 180
            while True:
                status, body, _ = admin_b.request("GET", f"/admin/exports/bundles/{job}/status")
                progress = json.loads(body)
                if progress["state"] in ("done", "failed") or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            assert progress["state"] == "done", progress
            status, page, _ = admin_b.request("GET", f"/admin/exports/bundles/{job}")
            status, zipped, _ = form_post(
                admin_b, f"/admin/exports/bundles/{job}/download", {"csrf_token": csrf_token(page)}
            )
            assert status == 200 and len(zipped) == progress["size"]
            archive = zipfile.ZipFile(io.BytesIO(zipped))
            assert archive.testzip() is None
            manifest = json.loads(archive.read("manifest.json"))
            assert manifest["enrolments"] == progress["total"] > 0
            for entry in manifest["files"]:
                content = archive.read(entry["path"])
                assert hashlib.sha256(content).hexdigest() == entry["sha256"]
    finally:
        clients.close()
        worker.terminate()
        worker.wait(timeout=30)
        worker_log.close()
        instance.close()
