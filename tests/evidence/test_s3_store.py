"""An instance whose evidence is in an S3-compatible store (a real SeaweedFS server): the
learner's upload and the assessor's download go through it, and `flask storage migrate`
moves an instance's files from the folder to the store and back, verified and resumable."""

from __future__ import annotations

import hashlib
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select

from portfolio import create_app
from portfolio.config import ConfigurationError
from portfolio.extensions import db
from portfolio.files.storage import LocalStorage, storage_from_config
from portfolio.models import EvidenceFile
from tests.evidence.test_portfolio import post_item
from tests.files import pdf_bytes, png_bytes


def files_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def downloaded(client, evidence_file: EvidenceFile) -> bytes:
    with client.get(f"/files/{evidence_file.id}") as response:
        assert response.status_code == 200
        return response.data


def test_evidence_goes_to_the_store_and_comes_back_from_it(
    app, client, learner_enrolment, s3_server
) -> None:
    """Uploaded through the form, kept in the bucket (not the folder), downloaded intact."""
    app.config.update(s3_server.fresh())
    pdf = pdf_bytes("Site induction record")
    assert post_item(client, learner_enrolment, files=[("induction.pdf", pdf)]).status_code == 302
    stored = db.session.scalar(select(EvidenceFile))
    assert stored.storage_backend == "s3"
    assert stored.sha256 == hashlib.sha256(pdf).hexdigest()
    assert files_in(Path(app.config["EVIDENCE_DIR"])) == []
    assert storage_from_config(app.config).exists(stored.storage_key)
    with client.get(f"/files/{stored.id}") as download:
        assert download.status_code == 200 and download.data == pdf


def test_storage_migrate_moves_an_instance_to_the_store_and_back(
    app, client, runner, learner_enrolment, s3_server
) -> None:
    """Folder to store, verified; a second run copies nothing and checks everything; a copy
    damaged in the store is replaced; and back to an emptied folder."""
    png, pdf = png_bytes(), pdf_bytes("Pre-start checklist")
    post_item(client, learner_enrolment, files=[("rota.png", png), ("check.pdf", pdf)])
    folder = Path(app.config["EVIDENCE_DIR"])
    assert len(files_in(folder)) == 2
    app.config.update(s3_server.fresh())
    app.config["EVIDENCE_STORAGE"] = "local"  # still running on the folder

    refused = runner.invoke(args=["storage", "migrate", "--from", "s3", "--to", "s3"])
    assert refused.exit_code != 0 and "--from and --to name the same store" in refused.output

    moved = runner.invoke(args=["storage", "migrate", "--from", "local", "--to", "s3"])
    assert moved.exit_code == 0, moved.output
    assert "Copied 2 files" in moved.output and "2 records now name s3" in moved.output
    db.session.expire_all()
    assert {f.storage_backend for f in db.session.scalars(select(EvidenceFile))} == {"s3"}
    assert len(files_in(folder)) == 2  # the source is left as it was

    # Stopped and started again: nothing copied, everything checked. A damaged copy is found.
    store = storage_from_config({**app.config, "EVIDENCE_STORAGE": "s3"})
    damaged = db.session.scalar(select(EvidenceFile).where(EvidenceFile.display_name == "rota.png"))
    store.client.put_object(
        Bucket=store.bucket, Key=store.prefix + damaged.storage_key, Body=b"truncated"
    )
    again = runner.invoke(args=["storage", "migrate", "--from", "local", "--to", "s3"])
    assert again.exit_code == 0, again.output
    assert "Copied 1 file" in again.output and "1 file already there and verified" in again.output
    assert "1 damaged copy replaced" in again.output

    app.config["EVIDENCE_STORAGE"] = "s3"
    for evidence_file, content in zip(
        db.session.scalars(select(EvidenceFile).order_by(EvidenceFile.id)), (png, pdf), strict=True
    ):
        assert downloaded(client, evidence_file) == content

    # And back, into an emptied folder.
    for path in files_in(folder):
        path.unlink()
    back = runner.invoke(args=["storage", "migrate", "--from", "s3", "--to", "local"])
    assert back.exit_code == 0, back.output
    assert "Copied 2 files" in back.output
    local = LocalStorage(folder)
    assert sorted(key for key, _ in local.stored()) == sorted(
        f.storage_key for f in db.session.scalars(select(EvidenceFile))
    )
    app.config["EVIDENCE_STORAGE"] = "local"
    first = db.session.scalar(select(EvidenceFile).order_by(EvidenceFile.id))
    assert downloaded(client, first) == png


def test_an_unreachable_store_refuses_the_upload_in_words(
    app, client, learner_enrolment, s3_server
) -> None:
    """The object store down: the learner is told to try again, nothing is half-kept."""
    app.config.update({**s3_server.fresh(), "S3_ENDPOINT_URL": "http://127.0.0.1:9"})
    refused = post_item(client, learner_enrolment, files=[("plan.pdf", pdf_bytes())])
    assert "plan.pdf was not kept: the evidence store could not be reached just now" in (
        refused.text
    )
    assert db.session.scalar(select(EvidenceFile)) is None


def fetch(url: str, **headers: str):
    """What a browser following the link gets from the store: status, headers, body."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers, refused.read()


def test_signed_links_send_downloads_straight_from_the_store(
    app, client, learner_enrolment, s3_server, make_user, login
) -> None:
    """S3_DOWNLOADS=presigned: the app checks who asks, then redirects to a short-lived link
    the store answers itself, as an attachment under the file's name, resumable by range."""
    app.config.update(s3_server.fresh(), S3_DOWNLOADS="presigned", S3_PRESIGNED_SECONDS=2)
    pdf = pdf_bytes("Forklift pre-start record")
    assert post_item(client, learner_enrolment, files=[("pre-start.pdf", pdf)]).status_code == 302
    stored = db.session.scalar(select(EvidenceFile))

    answer = client.get(f"/files/{stored.id}")
    assert answer.status_code == 303 and "no-store" in answer.headers["Cache-Control"]
    link = answer.headers["Location"]
    assert link.startswith(s3_server.endpoint) and "Signature" in link
    status, headers, body = fetch(link)
    assert status == 200 and body == pdf
    assert headers["Content-Disposition"] == 'attachment; filename="pre-start.pdf"'
    assert headers["Content-Type"] == "application/pdf"
    status, _, part = fetch(link, Range="bytes=0-7")
    assert status == 206 and part == pdf[:8]
    # Shown in the page, a PDF still comes through the app (its frame is ours).
    with client.get(f"/files/{stored.id}/inline") as shown:
        assert shown.status_code == 200 and shown.data == pdf
    # The link dies with its time; and nobody else gets one.
    time.sleep(3)
    assert fetch(link)[0] == 403
    login(make_user("learner"))
    assert client.get(f"/files/{stored.id}").status_code == 404


def test_with_signed_links_forms_may_be_sent_on_to_the_store(app, s3_server, tmp_path) -> None:
    """A bundle's download form is answered with a redirect to the store: the page's policy
    allows that origin for forms, and only that one."""
    settings = {
        **s3_server.fresh(),
        "S3_DOWNLOADS": "presigned",
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "TESTING": True,
    }
    policy = create_app(settings).test_client().get("/login").headers["Content-Security-Policy"]
    assert f"form-action 'self' {s3_server.endpoint}" in policy
    streamed = create_app({**settings, "S3_DOWNLOADS": "stream"}).test_client().get("/login")
    assert "form-action 'self';" in streamed.headers["Content-Security-Policy"]
    with pytest.raises(ConfigurationError, match="S3_DOWNLOADS is 'signed'"):
        create_app({**settings, "S3_DOWNLOADS": "signed"})
