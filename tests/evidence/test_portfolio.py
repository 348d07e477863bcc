"""The learner's portfolio in the browser's requests: evidence, files, mapping, coverage, submit."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from portfolio.enrolments.workflow import transition
from portfolio.evidence.rules import ItemFields
from portfolio.evidence.services import create_item, set_item_mappings
from portfolio.extensions import db
from portfolio.models import (
    AssessmentState,
    Enrolment,
    EvidenceItem,
    EvidenceType,
    EvidenceVersion,
    Submission,
    Target,
    User,
)
from tests.files import docx_bytes, pdf_bytes, png_bytes


def item_data(**overrides):
    data = {
        "title": "Customer service plan",
        "evidence_type": "plan",
        "work_date": "2026-10-01",
        "description": "",
    }
    data.update(overrides)
    return data


def post_item(client: FlaskClient, enrolment, files=(), **fields):
    data = MultiDict(item_data(**fields))
    for name, content in files:
        data.add("files", FileStorage(io.BytesIO(content), filename=name))
    # Encoded here, in memory: the test client would spool a big body to a file it never closes.
    boundary, body = encode_multipart(data)
    return client.post(
        f"/enrolments/{enrolment.id}/evidence/new",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def items_count() -> int:
    return db.session.scalar(select(func.count()).select_from(EvidenceItem))


def target(enrolment, anchor: str) -> Target:
    return db.session.scalar(
        select(Target).where(
            Target.unit_release_id == enrolment.unit_release_id, Target.anchor == anchor
        )
    )


def test_learner_adds_an_item_with_two_files(client, learner_enrolment) -> None:
    """Two files arrive with their names, sizes and SHA-256, as item E1."""
    png, pdf = png_bytes(), pdf_bytes()
    response = post_item(client, learner_enrolment, files=[("rota.png", png), ("plan.pdf", pdf)])
    assert response.status_code == 302
    item = db.session.scalar(select(EvidenceItem))
    assert item.reference == "E1"
    files = {f.display_name: f for f in item.current_version.files}
    assert files["rota.png"].content_type == "image/png"
    assert files["plan.pdf"].sha256 == hashlib.sha256(pdf).hexdigest()
    assert files["plan.pdf"].size == len(pdf)
    page = client.get(f"/evidence/{item.id}")
    assert "rota.png" in page.text and "plan.pdf" in page.text


def test_item_with_neither_text_nor_file_is_refused(client, learner_enrolment) -> None:
    """An empty item says what it needs, keeps what was typed, and saves nothing."""
    page = post_item(client, learner_enrolment, title="My plan")
    assert "Add a file or write a description" in page.text
    assert 'value="My plan"' in page.text
    assert items_count() == 0


def test_file_type_is_checked_by_content_not_name(client, learner_enrolment) -> None:
    """An HTML page named .pdf is refused with the list of accepted types."""
    html = b"<!doctype html><html><script>alert(1)</script></html>"
    page = post_item(client, learner_enrolment, files=[("report.pdf", html)], description="x")
    assert "report.pdf is not a file type we accept. Use PDF, Word" in page.text
    assert 'value="Customer service plan"' in page.text
    assert items_count() == 0


def test_oversized_file_is_refused_with_the_limit(app: Flask, client, learner_enrolment) -> None:
    """A file over the limit gets a message naming the limit, and nothing is saved."""
    app.config["MAX_UPLOAD_MB"] = 1
    big = pdf_bytes() + b"%" + b"x" * (1024 * 1024 + 10) + b"\n"
    page = post_item(client, learner_enrolment, files=[("big.pdf", big)])
    assert page.status_code == 200
    assert "big.pdf" in page.text and "1 MB" in page.text
    assert items_count() == 0


def test_request_over_the_site_limit_gets_a_page_not_a_bare_413(
    app: Flask, client, learner_enrolment
):
    """A request larger than the server takes explains the limit."""
    app.config["MAX_CONTENT_LENGTH"] = 1024
    page = post_item(client, learner_enrolment, files=[("a.pdf", pdf_bytes() + b"x" * 2048)])
    assert page.status_code == 413
    assert "larger than" in page.text and "Go back" in page.text


def test_filenames_cannot_climb(client, learner_enrolment) -> None:
    """A name with ../ keeps only its last part for display and is never used as a path."""
    post_item(client, learner_enrolment, files=[("../../etc/passwd.png", png_bytes())])
    item = db.session.scalar(select(EvidenceItem))
    stored = item.current_version.files[0]
    assert stored.display_name == "passwd.png"
    assert stored.storage_key.startswith("sha256/")


def test_html_in_a_filename_is_shown_as_text(client, learner_enrolment) -> None:
    """A file named like a tag appears as its name, never as markup."""
    post_item(client, learner_enrolment, files=[("<img src=x onerror=alert(1)>.png", png_bytes())])
    item = db.session.scalar(select(EvidenceItem))
    page = client.get(f"/evidence/{item.id}").text
    assert "<img src=x onerror" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;.png" in page


def test_markdown_is_rendered_and_scripts_are_not(client, learner_enrolment) -> None:
    """Bold and lists render; a script tag or javascript: link never reaches the page."""
    description = (
        "**Handled** the complaint\n\n- called back\n\n"
        "<script>alert(1)</script>\n\n[x](javascript:alert(2))"
    )
    post_item(client, learner_enrolment, description=description)
    item = db.session.scalar(select(EvidenceItem))
    page = client.get(f"/evidence/{item.id}").text
    assert "<strong>Handled</strong>" in page and "<li>called back</li>" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown as text, never run
    assert 'href="javascript:' not in page


def test_mapping_from_the_item_raises_coverage(client, learner_enrolment) -> None:
    """Mapping an item to two criteria shows it under each, and coverage goes up."""
    post_item(client, learner_enrolment, description="My plan")
    item = db.session.scalar(select(EvidenceItem))
    pc11, pc12 = target(learner_enrolment, "pc-1.1"), target(learner_enrolment, "pc-1.2")
    page = client.get(f"/enrolments/{learner_enrolment.id}").text
    assert "0 / 24 covered" in page
    client.post(
        f"/evidence/{item.id}/mappings",
        data={"target": [pc11.id, pc12.id], f"note-{pc11.id}": "Section 2 lists customer needs"},
    )
    page = client.get(f"/enrolments/{learner_enrolment.id}").text
    assert "2 / 24 covered" in page
    assert "Section 2 lists customer needs" in page
    gaps = client.get(f"/enrolments/{learner_enrolment.id}?gaps=1").text
    assert 'id="pc-1.1"' not in gaps and 'id="pc-2.1"' in gaps


def test_each_item_shows_its_current_versions_files_and_mappings(client, learner_enrolment) -> None:
    """The evidence list counts the files and criteria of each item's current version: a
    change after a return that drops a file and a criterion is counted as it stands."""
    post_item(client, learner_enrolment, files=[("a.png", png_bytes()), ("b.pdf", pdf_bytes())])
    post_item(client, learner_enrolment, title="Complaint log", files=[("c.png", png_bytes())])
    plan, _ = db.session.scalars(select(EvidenceItem).order_by(EvidenceItem.number)).all()
    pc11, pc12, pc21 = (target(learner_enrolment, a) for a in ("pc-1.1", "pc-1.2", "pc-2.1"))
    client.post(f"/evidence/{plan.id}/mappings", data={"target": [pc11.id, pc12.id, pc21.id]})

    def lines() -> list[str]:
        page = client.get(f"/enrolments/{learner_enrolment.id}").text
        return re.findall(r"\d+ files? · \d+ mapped", page)

    assert lines() == ["2 files · 3 mapped", "1 file · 0 mapped"]
    client.post(f"/enrolments/{learner_enrolment.id}/submit", data={"declared": "y"})
    transition(db.session, learner_enrolment, AssessmentState.IN_REVIEW, actor=None, role=None)
    transition(db.session, learner_enrolment, AssessmentState.RETURNED, actor=None, role=None)
    db.session.commit()
    dropped = plan.current_version.files[0]
    client.post(f"/evidence/{plan.id}/edit", data={**item_data(), "remove_file": [dropped.id]})
    client.post(f"/evidence/{plan.id}/mappings", data={"target": [pc21.id]})
    assert lines() == ["1 file · 1 mapped", "1 file · 0 mapped"]


def test_attach_existing_evidence_from_a_criterion(client, learner_enrolment) -> None:
    """From a criterion, the learner attaches items already in the portfolio."""
    post_item(client, learner_enrolment, description="one")
    post_item(client, learner_enrolment, description="two", title="Complaint log")
    first, second = db.session.scalars(select(EvidenceItem).order_by(EvidenceItem.number)).all()
    pc23 = target(learner_enrolment, "pc-2.3")
    url = f"/enrolments/{learner_enrolment.id}/targets/{pc23.id}"
    page = client.get(url).text
    assert "Complaint log" in page
    assert "checked" not in page  # nothing is attached yet, so nothing is ticked
    client.post(url, data={"item": [first.id, second.id], f"note-{second.id}": "coaching notes"})
    db.session.expire_all()
    notes = {m.note for i in (first, second) for m in i.current_version.mappings}
    assert notes == {"", "coaching notes"}
    again = client.get(url).text
    assert again.count("checked") == 2 and 'value="coaching notes"' in again
    # Unticking one on the same page takes it off the criterion.
    client.post(url, data={"item": [second.id], f"note-{second.id}": "coaching notes"})
    db.session.expire_all()
    assert [m.target_id for m in first.current_version.mappings] == []
    assert [m.target_id for m in second.current_version.mappings] == [pc23.id]


def test_mapping_to_a_group_heading_is_refused(client, make_user, make_enrolment, login) -> None:
    """A heading that only leads a sub-list cannot be mapped; its lines can."""
    learner = make_user("learner")
    enrolment = make_enrolment(learner=learner, unit="BSBCUS501")
    login(learner)
    post_item(client, enrolment, description="notes")
    item = db.session.scalar(select(EvidenceItem))
    page = client.post(
        f"/evidence/{item.id}/mappings",
        data={"target": [target(enrolment, "ke-6").id]},
        follow_redirects=True,
    )
    assert "not the heading itself" in page.text


def test_portfolio_page_runs_a_fixed_number_of_queries(
    client, learner_enrolment, count_queries
) -> None:
    """Two hundred items with mappings cost the page no more queries than two."""
    learner = learner_enrolment.learner
    targets = db.session.scalars(
        select(Target.id).where(
            Target.unit_release_id == learner_enrolment.unit_release_id, Target.is_group.is_(False)
        )
    ).all()

    def add(n: int) -> None:
        for i in range(n):
            item = create_item(
                db.session,
                actor=learner,
                enrolment=learner_enrolment,
                fields=ItemFields(f"Item {i}", EvidenceType.REPORT, date(2026, 1, 1), "text"),
                files=[],
            )
            set_item_mappings(
                db.session, actor=learner, item=item, notes={targets[i % len(targets)]: ""}
            )
        db.session.commit()

    add(2)
    # The first page of a process reads the unit release once (four queries); then never.
    with count_queries() as first:
        assert client.get(f"/enrolments/{learner_enrolment.id}").status_code == 200
    db.session.expire_all()  # as a new request in a server would find it
    with count_queries() as small:
        assert client.get(f"/enrolments/{learner_enrolment.id}").status_code == 200
    add(198)
    with count_queries() as large:
        page = client.get(f"/enrolments/{learner_enrolment.id}")
    assert "Evidence (200)" in page.text
    assert large.count == small.count == 9, large.statements
    assert first.count == small.count + 4, first.statements


def test_submit_needs_the_declaration(client, learner_enrolment) -> None:
    """Submitting without ticking the declaration explains why nothing happened."""
    post_item(client, learner_enrolment, description="plan")
    page = client.post(f"/enrolments/{learner_enrolment.id}/submit", data={})
    assert "Tick the declaration" in page.text
    assert db.session.scalar(select(func.count()).select_from(Submission)) == 0


def test_submit_freezes_and_a_double_click_makes_one_submission(client, learner_enrolment):
    """Two submits in a row give one submission; the items are frozen in it."""
    post_item(client, learner_enrolment, description="plan")
    url = f"/enrolments/{learner_enrolment.id}/submit"
    first = client.post(url, data={"declared": "y"}, follow_redirects=True)
    assert "Submitted (round 1)" in first.text
    second = client.post(url, data={"declared": "y"}, follow_redirects=True)
    assert "already submitted" in second.text
    assert db.session.scalar(select(func.count()).select_from(Submission)) == 1
    db.session.expire_all()
    version = db.session.scalar(select(EvidenceVersion))
    assert version.frozen
    assert learner_enrolment.state is AssessmentState.SUBMITTED


def test_two_submits_at_the_same_moment_make_one_submission(
    client, learner_enrolment, monkeypatch
) -> None:
    """The click that loses the race is told the portfolio is submitted; no error page."""
    from portfolio.evidence import services, views

    post_item(client, learner_enrolment, description="plan")

    def other_click_wins_first(session, *, actor, enrolment, declared, signature=None):
        # Another request commits its submission after this one has read the enrolment.
        with Session(db.engine) as other:
            services.submit(
                other,
                actor=other.get(User, actor.id),
                enrolment=other.get(Enrolment, enrolment.id),
                declared=True,
            )
            other.commit()
        return services.submit(
            session, actor=actor, enrolment=enrolment, declared=declared, signature=signature
        )

    monkeypatch.setattr(views, "submit", other_click_wins_first)
    page = client.post(
        f"/enrolments/{learner_enrolment.id}/submit", data={"declared": "y"}, follow_redirects=True
    )
    assert page.status_code == 200
    assert "already submitted" in page.text
    assert "changed in another window" not in page.text
    assert db.session.scalar(select(func.count()).select_from(Submission)) == 1


def test_two_new_items_at_the_same_moment_do_not_share_a_number(
    client, learner_enrolment, monkeypatch
) -> None:
    """If another tab numbers an item first, this one is refused with its input kept."""
    from portfolio.evidence import services, views

    def other_tab_saves_first(session, *, actor, enrolment, fields, files):
        with Session(db.engine) as other:
            services.create_item(
                other,
                actor=other.get(User, actor.id),
                enrolment=other.get(Enrolment, enrolment.id),
                fields=fields,
                files=[],
            )
            other.commit()
        return services.create_item(
            session, actor=actor, enrolment=enrolment, fields=fields, files=files
        )

    monkeypatch.setattr(views, "create_item", other_tab_saves_first)
    page = post_item(client, learner_enrolment, description="Notes typed in this tab")
    assert page.status_code == 200
    assert "changed in another window at the same moment" in page.text
    assert "Notes typed in this tab" in page.text  # the form comes back filled in
    numbers = db.session.scalars(select(EvidenceItem.number)).all()
    assert numbers == [1]


def test_submit_with_no_evidence_is_refused(client, learner_enrolment) -> None:
    """An empty portfolio cannot be submitted."""
    page = client.post(f"/enrolments/{learner_enrolment.id}/submit", data={"declared": "y"})
    assert "Add at least one piece of evidence" in page.text


def test_submitted_evidence_cannot_change_until_returned(client, learner_enrolment) -> None:
    """While the assessor has it, the learner's edit is refused with a reason."""
    post_item(client, learner_enrolment, description="plan")
    client.post(f"/enrolments/{learner_enrolment.id}/submit", data={"declared": "y"})
    item = db.session.scalar(select(EvidenceItem))
    page = client.post(f"/evidence/{item.id}/edit", data=item_data(description="changed"))
    assert "You cannot change evidence while the portfolio is submitted." in page.text
    db.session.expire_all()
    assert item.current_version.description == "plan"


def test_change_after_return_makes_a_new_version(client, learner_enrolment) -> None:
    """A returned portfolio's change is version 2; version 1 stays readable as submitted."""
    post_item(client, learner_enrolment, description="first words", files=[("a.png", png_bytes())])
    client.post(f"/enrolments/{learner_enrolment.id}/submit", data={"declared": "y"})
    transition(db.session, learner_enrolment, AssessmentState.IN_REVIEW, actor=None, role=None)
    transition(db.session, learner_enrolment, AssessmentState.RETURNED, actor=None, role=None)
    db.session.commit()
    item = db.session.scalar(select(EvidenceItem))
    old_file = item.current_version.files[0]
    client.post(
        f"/evidence/{item.id}/edit",
        data={**item_data(description="better words"), "remove_file": [old_file.id]},
    )
    db.session.expire_all()
    assert [v.version for v in item.versions] == [1, 2]
    assert item.current_version.description == "better words"
    assert item.current_version.files == []
    assert "first words" in client.get(f"/evidence/{item.id}?version=1").text
    assert "a.png" in client.get(f"/evidence/{item.id}?version=1").text
    resubmitted = client.post(
        f"/enrolments/{learner_enrolment.id}/submit", data={"declared": "y"}, follow_redirects=True
    )
    assert "Submitted (round 2)" in resubmitted.text


def test_download_is_an_attachment_with_nosniff(client, learner_enrolment) -> None:
    """Downloads carry the checked type, the original name and nosniff."""
    post_item(client, learner_enrolment, files=[("plan.pdf", pdf_bytes())])
    evidence_file = db.session.scalar(select(EvidenceItem)).current_version.files[0]
    response = client.get(f"/files/{evidence_file.id}")
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "plan.pdf" in response.headers["Content-Disposition"]
    assert response.data == pdf_bytes()
    response.close()


@pytest.mark.parametrize(
    ("uploaded", "saved_as"),
    [
        ("run.bat", "run.bat.txt"),
        ("page.hta", "page.hta.txt"),
        ("logo.svg", "logo.svg.txt"),
        ("notes.txt", "notes.txt"),
        ("notes.md", "notes.md"),
    ],
)
def test_a_download_ends_in_the_extension_of_what_it_is(
    client, learner_enrolment, uploaded: str, saved_as: str
) -> None:
    """Text accepted as text downloads as text: a name such as ``run.bat`` or ``logo.svg``
    (which Windows would run, or a browser render as markup) gets ``.txt`` added."""
    post_item(client, learner_enrolment, files=[(uploaded, b"echo hello\r\n")])
    evidence_file = db.session.scalar(select(EvidenceItem)).current_version.files[0]
    assert evidence_file.display_name == uploaded  # shown as the learner named it
    response = client.get(f"/files/{evidence_file.id}")
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.headers["Content-Disposition"] == f"attachment; filename={saved_as}"
    response.close()


def test_images_and_pdfs_show_inline(client, learner_enrolment) -> None:
    """An image is embedded in the item page and served inline."""
    post_item(client, learner_enrolment, files=[("photo.png", png_bytes())])
    item = db.session.scalar(select(EvidenceItem))
    evidence_file = item.current_version.files[0]
    assert f'src="/files/{evidence_file.id}/inline"' in client.get(f"/evidence/{item.id}").text
    response = client.get(f"/files/{evidence_file.id}/inline")
    assert response.headers["Content-Disposition"].startswith("inline")
    response.close()


def test_word_files_are_previewed_as_html(client, learner_enrolment) -> None:
    """A .docx reads in the browser without downloading it."""
    post_item(client, learner_enrolment, files=[("log.docx", docx_bytes("Complaint log"))])
    evidence_file = db.session.scalar(select(EvidenceItem)).current_version.files[0]
    page = client.get(f"/files/{evidence_file.id}/preview").text
    assert re.search(r"<h\d>Complaint log</h\d>", page)
    assert "Resolved within 24 hours." in page


def test_upload_ahead_then_claim_with_the_form(client, learner_enrolment) -> None:
    """The drag-and-drop path: a file uploaded alone is added when the form is saved."""
    response = client.post(
        f"/enrolments/{learner_enrolment.id}/uploads",
        data={"file": (io.BytesIO(png_bytes()), "rota.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201
    token = response.json["token"]
    client.post(
        f"/enrolments/{learner_enrolment.id}/evidence/new",
        data={**item_data(), "uploaded": token},
    )
    item = db.session.scalar(select(EvidenceItem))
    assert [f.display_name for f in item.current_version.files] == ["rota.png"]


def test_upload_ahead_refuses_bad_files_with_json(client, learner_enrolment) -> None:
    """The upload endpoint answers a disguised file with a message the page can show."""
    response = client.post(
        f"/enrolments/{learner_enrolment.id}/uploads",
        data={"file": (io.BytesIO(b"MZ\x90\x00binary"), "photo.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "not a file type we accept" in response.json["error"]


def test_an_empty_file_is_called_empty(client, learner_enrolment) -> None:
    """A zero-byte file is refused as empty, not as an unknown type."""
    response = client.post(
        f"/enrolments/{learner_enrolment.id}/uploads",
        data={"file": (io.BytesIO(b""), "minutes.docx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert response.json["error"] == "minutes.docx is empty: it has nothing in it to keep."
    page = post_item(client, learner_enrolment, files=[("minutes.docx", b"")])
    assert "minutes.docx is empty" in page.text and items_count() == 0


def test_no_uploads_into_a_submitted_portfolio(client, learner_enrolment) -> None:
    """Once submitted, the upload endpoint refuses files until the portfolio is returned."""
    post_item(client, learner_enrolment, description="plan")
    client.post(f"/enrolments/{learner_enrolment.id}/submit", data={"declared": "y"})
    response = client.post(
        f"/enrolments/{learner_enrolment.id}/uploads",
        data={"file": (io.BytesIO(png_bytes()), "late.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 409
    assert "with your assessor" in response.json["error"]


def test_forged_or_foreign_upload_tokens_are_refused(
    client, learner_enrolment, make_user, make_enrolment, login
) -> None:
    """A token from someone else's upload cannot pull their file into this portfolio."""
    other = make_user("learner")
    other_enrolment = make_enrolment(learner=other, unit="BSBCUS501")
    login(other)
    token = client.post(
        f"/enrolments/{other_enrolment.id}/uploads",
        data={"file": (io.BytesIO(png_bytes()), "theirs.png")},
        content_type="multipart/form-data",
    ).json["token"]
    login(learner_enrolment.learner)
    for claimed in (token, "forged.token"):
        page = client.post(
            f"/enrolments/{learner_enrolment.id}/evidence/new",
            data={**item_data(), "uploaded": claimed},
        )
        assert "uploaded file" in page.text.lower()
    assert items_count() == 0
