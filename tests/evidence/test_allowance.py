"""Storage abuse: what one learner may keep, how fast they may send it, and the sweep of files
nobody claimed. Before, uploads never claimed by a form were kept forever, without limit."""

from __future__ import annotations

import io
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from portfolio.extensions import db
from portfolio.files.storage import LocalStorage
from portfolio.files.uploads import TOKEN_MAX_AGE
from portfolio.models import EvidenceFile, EvidenceItem, PendingUpload
from portfolio.models.base import utcnow
from tests.evidence.test_portfolio import item_data, post_item

KB = 1024


def text_file(size: int, seed: str) -> bytes:
    """Plain text of ``size`` bytes, different for each seed (the store keeps content once)."""
    line = f"{seed} site record, shift notes and signatures.\n".encode()
    return (line * (size // len(line) + 1))[:size]


def send(client, enrolment, content: bytes, name: str = "notes.txt"):
    """As the page's upload script sends a file. Encoded here, in memory: the test client
    would spool a big body to a file it never closes."""
    boundary, body = encode_multipart(
        MultiDict({"file": FileStorage(io.BytesIO(content), filename=name)})
    )
    return client.post(
        f"/enrolments/{enrolment.id}/uploads",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"Accept": "application/json"},
    )


def stored_files(app) -> set[str]:
    return {key for key, _ in LocalStorage(app.config["EVIDENCE_DIR"]).stored()}


def pending() -> int:
    return db.session.scalar(select(func.count()).select_from(PendingUpload))


def test_uploads_not_yet_claimed_count_against_the_allowance(app, client, learner_enrolment):
    """A learner who keeps sending files without ever saving a form is stopped at the
    allowance, with a message that says so; nothing past it is stored."""
    app.config["LEARNER_STORAGE_MB"] = 1
    first = send(client, learner_enrolment, text_file(600 * KB, "first"))
    assert first.status_code == 201
    before = stored_files(app)
    second = send(client, learner_enrolment, text_file(600 * KB, "second"), "second.txt")
    assert second.status_code == 400
    assert second.json["error"] == (
        "second.txt was not kept: it is larger than the 424 KB left of your 1 MB of "
        "storage. Remove files you no longer need, or ask your training organisation for more "
        "room."
    )
    assert stored_files(app) == before and pending() == 1


def test_the_number_of_files_is_limited_too(app, client, learner_enrolment) -> None:
    """Files in saved items and files waiting for a form count together."""
    app.config["LEARNER_STORAGE_FILES"] = 3
    saved = post_item(
        client, learner_enrolment, files=[("a.txt", text_file(KB, "a")), ("b.txt", b"b text")]
    )
    assert saved.status_code == 302
    assert send(client, learner_enrolment, text_file(KB, "c")).status_code == 201
    refused = send(client, learner_enrolment, text_file(KB, "d"), "d.txt")
    assert refused.status_code == 400
    assert refused.json["error"].startswith(
        "d.txt was not kept: your portfolio holds 3 files, the most one learner may keep."
    )
    # The form sent without JavaScript is held to the same allowance, and keeps what was typed.
    page = post_item(
        client, learner_enrolment, files=[("e.txt", text_file(KB, "e"))], title="Site diary"
    )
    assert page.status_code == 200
    assert "e.txt was not kept: your portfolio holds 3 files" in page.text
    assert 'value="Site diary"' in page.text
    assert db.session.scalar(select(func.count()).select_from(EvidenceItem)) == 1


def test_uploads_are_rate_limited_per_account(app, client, learner_enrolment) -> None:
    """Past UPLOAD_RATE_LIMIT the endpoint answers 429 with a message the page shows."""
    app.config["UPLOAD_RATE_LIMIT"] = "3 per minute"
    for n in range(3):
        assert send(client, learner_enrolment, text_file(KB, f"r{n}")).status_code == 201
    refused = send(client, learner_enrolment, text_file(KB, "r3"))
    assert refused.status_code == 429
    assert refused.json["error"] == (
        "Too many files in a short time. Wait a minute, then add the rest."
    )
    assert pending() == 3


def test_a_claimed_upload_is_claimed_once(client, learner_enrolment) -> None:
    """The form that claims an upload takes it out of the waiting list; the same token again
    (a second tab, a replayed form) is refused with a message and creates nothing."""
    token = send(client, learner_enrolment, text_file(KB, "once")).json["token"]
    assert post_item(client, learner_enrolment, uploaded=token).status_code == 302
    assert pending() == 0
    again = client.post(
        f"/enrolments/{learner_enrolment.id}/evidence/new",
        data={**item_data(title="Again"), "uploaded": token},
    )
    assert "notes.txt was already added, or waited too long for this form" in again.text
    assert db.session.scalar(select(func.count()).select_from(EvidenceItem)) == 1


def _age(app, keys: set[str], seconds: float) -> None:
    """Make stored files look ``seconds`` old."""
    then = time.time() - seconds
    for key in keys:
        os.utime(Path(app.config["EVIDENCE_DIR"]) / key, (then, then))


def test_the_sweep_clears_unclaimed_uploads_and_unused_files(
    app, client, learner_enrolment, runner
):
    """After an upload token's lifetime, an upload no form claimed is forgotten and its file
    removed; a file an item uses, and anything younger, stays."""
    kept = post_item(client, learner_enrolment, files=[("kept.txt", text_file(KB, "kept"))])
    assert kept.status_code == 302
    kept_key = db.session.scalar(select(EvidenceFile.storage_key))
    send(client, learner_enrolment, text_file(3 * KB, "abandoned"))
    send(client, learner_enrolment, text_file(KB, "recent"), "recent.txt")
    abandoned, recent = db.session.scalars(select(PendingUpload).order_by(PendingUpload.id)).all()
    old = utcnow() - timedelta(seconds=TOKEN_MAX_AGE + 60)
    abandoned.created_at = old
    db.session.commit()
    _age(app, {kept_key, abandoned.storage_key}, TOKEN_MAX_AGE + 60)
    partial = Path(app.config["EVIDENCE_DIR"]) / "tmp" / "upload-crashed.part"
    partial.write_bytes(b"half a file")
    os.utime(partial, (time.time() - TOKEN_MAX_AGE - 60,) * 2)
    abandoned_key, recent_key = abandoned.storage_key, recent.storage_key

    dry = runner.invoke(args=["files", "sweep", "--dry-run"])
    assert dry.output == (
        "Would remove 1 upload never claimed by a form, 1 stored file no record uses (3 KB).\n"
    )
    assert stored_files(app) == {kept_key, abandoned_key, recent_key}

    result = runner.invoke(args=["files", "sweep"])
    assert result.exit_code == 0, result.output
    assert result.output == (
        "Removed 1 upload never claimed by a form, 1 stored file no record uses (3 KB) "
        "and 1 unfinished upload.\n"
    )
    assert stored_files(app) == {kept_key, recent_key}
    assert not partial.exists()
    db.session.expire_all()
    assert [p.storage_key for p in db.session.scalars(select(PendingUpload))] == [recent_key]
    kept_download = client.get(f"/files/{db.session.scalar(select(EvidenceFile.id))}")
    kept_download.close()
    assert kept_download.status_code == 200


def test_a_file_stored_again_is_young_again(app, client, learner_enrolment, runner) -> None:
    """An old unused file uploaded again today is not swept while its form is on its way."""
    content = text_file(KB, "again")
    send(client, learner_enrolment, content)
    [upload] = db.session.scalars(select(PendingUpload)).all()
    key = upload.storage_key
    db.session.delete(upload)
    db.session.commit()
    _age(app, {key}, TOKEN_MAX_AGE + 60)
    assert send(client, learner_enrolment, content).status_code == 201
    runner.invoke(args=["files", "sweep"])
    assert key in stored_files(app)


@pytest.mark.parametrize("limit", ["LEARNER_STORAGE_MB", "LEARNER_STORAGE_FILES"])
def test_allowances_are_set_from_the_environment(limit: str, monkeypatch, tmp_path) -> None:
    from portfolio import create_app

    monkeypatch.setenv("PORTFOLIO_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv(limit, "7")
    assert create_app().config[limit] == 7
