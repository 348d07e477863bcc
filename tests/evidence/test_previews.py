"""A Word bomb uploaded as evidence gets a message on its preview, not a stalled worker."""

from __future__ import annotations

import time

from sqlalchemy import select

from portfolio.extensions import db
from portfolio.models import EvidenceItem
from tests.evidence.test_portfolio import post_item
from tests.test_previews import rebuilt


def test_a_bomb_uploaded_as_evidence_gets_a_message_not_a_stalled_worker(
    client, learner_enrolment
) -> None:
    post_item(client, learner_enrolment, files=[("log.docx", rebuilt(document_mb=64))])
    evidence_file = db.session.scalar(select(EvidenceItem)).current_version.files[0]
    started = time.perf_counter()
    page = client.get(f"/files/{evidence_file.id}/preview")
    assert page.status_code == 200
    assert "unpacks to 64 MB; more than 48 MB is not opened" in page.text
    assert "Download it to open it." in page.text
    assert time.perf_counter() - started < 5
