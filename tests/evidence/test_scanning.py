"""Every upload scanned by a real ClamAV daemon when one is configured: an infected file is
refused with what was found and nothing kept; a scanner that cannot answer refuses too."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import func, select

from portfolio.extensions import db
from portfolio.models import EvidenceFile
from tests.clamdserver import EICAR
from tests.evidence.test_portfolio import post_item
from tests.files import pdf_bytes


def kept_files(app) -> list[Path]:
    folder = Path(app.config["EVIDENCE_DIR"]) / "sha256"
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def evidence_files() -> int:
    return db.session.scalar(select(func.count()).select_from(EvidenceFile))


def test_an_infected_upload_is_refused_and_nothing_is_kept(
    app, client, learner_enrolment, clamd_socket
) -> None:
    app.config["CLAMD_SOCKET"] = clamd_socket
    refused = post_item(client, learner_enrolment, files=[("notes.txt", EICAR)])
    assert refused.status_code == 200  # the form again, with the message and what was typed
    assert "notes.txt was not kept: the virus scanner found Eicar-Test-Signature" in refused.text
    assert "Check the computer it came from" in refused.text
    assert evidence_files() == 0 and kept_files(app) == []

    clean = pdf_bytes("Site induction")
    assert post_item(client, learner_enrolment, files=[("induction.pdf", clean)]).status_code == 302
    assert evidence_files() == 1 and len(kept_files(app)) == 1

    # Sent ahead of the form (the page's drag and drop): refused the same way, as JSON.
    with client.post(
        f"/enrolments/{learner_enrolment.id}/uploads",
        data={"file": (io.BytesIO(EICAR), "again.txt")},
        content_type="multipart/form-data",
    ) as ahead:
        assert ahead.status_code == 400
        assert "the virus scanner found Eicar-Test-Signature" in ahead.json["error"]
    assert len(kept_files(app)) == 1


def test_an_upload_the_scanner_cannot_check_is_refused(
    app, client, learner_enrolment, tmp_path
) -> None:
    app.config["CLAMD_SOCKET"] = str(tmp_path / "no-clamd.sock")
    refused = post_item(client, learner_enrolment, files=[("plan.pdf", pdf_bytes())])
    assert "plan.pdf was not kept: it could not be checked for viruses just now" in refused.text
    # No record names it; its stored copy is left for the daily sweep (another upload of the
    # same content may be on its way to a record).
    assert evidence_files() == 0


def test_a_file_over_the_scanners_limit_says_so(
    app, client, learner_enrolment, clamd_socket
) -> None:
    """The scanner's own size limit (clamd's StreamMaxLength, 1 MB here) is named, not
    mistaken for a scanner that is down."""
    app.config["CLAMD_SOCKET"] = clamd_socket
    big = pdf_bytes("Site plan") + b"%" + b"x" * (2 * 1024 * 1024) + b"\n"
    refused = post_item(client, learner_enrolment, files=[("site-plan.pdf", big)])
    assert "site-plan.pdf was not kept: it is larger than the virus scanner accepts" in (
        refused.text
    )
    assert evidence_files() == 0
