"""The admin page that adds a unit from its published text, and ``flask units import``."""

from __future__ import annotations

import io
import re
from pathlib import Path

import docx
import pytest
from flask import Flask
from sqlalchemy import func, select

from portfolio.enrolments.services import enrol
from portfolio.extensions import db
from portfolio.models import AuditEvent, Enrolment, Target, Unit, UnitRelease
from portfolio.units.importing import MAX_SOURCE_BYTES, MAX_TEXT_CHARS
from portfolio.units.loader import load_files
from tests.test_previews import rebuilt

DATA = Path(__file__).resolve().parent.parent / "data" / "seeds"
URL = "/admin/units/import"


def word_file(*paragraphs: str) -> bytes:
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def nested_tables(depth: int) -> bytes:
    """A Word file whose one table holds a table, which holds a table, ``depth`` deep."""
    document = docx.Document()
    cell = document.add_table(rows=1, cols=1).cell(0, 0)
    for _ in range(depth):
        cell = cell.add_table(rows=1, cols=1).cell(0, 0)
    cell.text = "ABC123 Do the work"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def seed(code: str) -> str:
    return (DATA / f"{code}.txt").read_text(encoding="utf-8")


def said(page) -> str:
    """The page's text with runs of whitespace as one space, as a reader sees it."""
    return re.sub(r"\s+", " ", page.text)


def releases() -> list[tuple[str, int]]:
    return db.session.execute(
        select(Unit.code, UnitRelease.release).join(UnitRelease).order_by(Unit.code)
    ).all()


@pytest.fixture
def admin(make_user, login):
    user = make_user("admin")
    login(user)
    return user


def test_preview_shows_the_source_beside_the_unit(client, admin) -> None:
    page = client.post(URL, data={"text": seed("TLII5018"), "release": "1", "preview": "1"})
    assert page.status_code == 200
    assert "TLII5018 release 1: 3 elements, 10 performance criteria" in said(page)
    # Plain text does not show whether its last line closes the nested list or the one
    # outside it: the one line decided without the text showing is marked.
    assert "1 line to check" in said(page)
    assert '<a href="#line-132">line 132</a>' in page.text
    every = client.post(URL, data={"text": seed("MEM16003"), "release": "1", "preview": "1"})
    assert "Every line was placed" in said(every)
    # Each source line with what it became.
    assert re.search(r'id="line-30".*?1\.1.*?number', page.text, re.S)
    assert re.search(r'id="line-32".*?criterion 1\.1', page.text, re.S)
    # The fields are filled from the text, ready to correct.
    assert 'name="code" type="text" value="TLII5018"' in page.text
    assert 'value="Manage customer service"' in page.text
    assert releases() == []  # reading saves nothing


def test_warnings_sit_next_to_their_lines(client, admin) -> None:
    page = client.post(
        URL,
        data={
            "text": seed("SITXCCS008"),
            "code": "SITXCCS008",
            "title": "Quality service",
            "release": "1",
        },
    )
    assert "12 lines to check" in said(page)
    row = re.search(r'<tr id="line-140" class="table-warning">(.*?)</tr>', page.text, re.S)
    assert row and "staff training for:" in row.group(1)
    assert "⚠ taken as the next item after the list under" in row.group(1)
    assert 'id="line-1" class="table-warning"' not in page.text
    assert "page text, not the unit: dropped" in said(page)


def test_missing_code_and_title_are_asked_for(client, admin) -> None:
    page = client.post(URL, data={"text": seed("INSCS042")})
    assert "This cannot be saved yet" in said(page)
    assert page.text.count("The text gives no code: type it here.") == 1
    assert "The text gives no title: type it here." in said(page)
    assert 'value="Save unit"' not in page.text
    assert "You must be able to:" in said(page)  # the text is kept and shown


def test_save_adds_the_unit_and_a_learner_can_be_enrolled(client, admin, make_user) -> None:
    data = {
        "text": seed("INSCS042"),
        "code": "INSCS042",
        "title": "Plan, organise and control customer service operations",
        "release": "1",
        "save": "1",
    }
    response = client.post(URL, data=data)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/units/INSCS042/releases/1")
    assert releases() == [("INSCS042", 1)]
    page = client.get(response.headers["Location"])
    assert "Added INSCS042 release 1" in said(page)
    assert "analyse customers&#39; expectations of customer service" in said(page)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "unit.imported")).one()
    assert event.subject == "unit:INSCS042" and event.actor_id == admin.id

    learner = make_user("learner")
    enrolment = enrol(db.session, actor=admin, learner=learner, unit_code="INSCS042")
    db.session.commit()
    assert enrolment.unit_release.release == 1
    assert len(enrolment.unit_release.targets) == 19 + 16

    # Pressing Save again (a double submit) adds nothing.
    again = client.post(URL, data=data, follow_redirects=True)
    assert "Already loaded, with the same content: INSCS042 release 1" in said(again)
    assert releases() == [("INSCS042", 1)]
    count = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "unit.imported")
    assert db.session.scalar(count) == 1


def test_changed_text_for_a_loaded_release_is_refused_and_kept(client, admin, synced) -> None:
    changed = seed("TLII5018").replace("Customer feedback is sought", "Feedback is sought")
    page = client.post(URL, data={"text": changed, "release": "1", "save": "1"})
    assert page.status_code == 200
    assert "TLII5018 release 1 is already loaded with different content" in said(page)
    assert "with other content</strong>; choose release 2" in said(page)
    assert "Feedback is sought and used" in said(page)  # the admin's text is still there
    response = client.post(URL, data={"text": changed, "release": "2", "save": "1"})
    assert response.status_code == 302
    assert ("TLII5018", 2) in releases()


def test_upload_of_a_word_page(client, admin) -> None:
    document = docx.Document()
    document.add_paragraph("ABC123 Do a thing")
    document.add_heading("Elements and Performance Criteria", 2)
    table = document.add_table(rows=3, cols=2)
    for row, (number, text) in enumerate([("1", "Plan"), ("1.1", "Plan it"), ("1.2", "Check")]):
        table.cell(row, 0).text, table.cell(row, 1).text = number, text
    stream = io.BytesIO()
    document.save(stream)
    stream.seek(0)
    page = client.post(
        URL,
        data={"source": (stream, "unit.docx"), "release": "1", "preview": "1"},
        content_type="multipart/form-data",
    )
    assert "ABC123 release 1: 1 elements, 2 performance criteria" in said(page)
    # The text read from the file is put in the text box, to correct and read again.
    assert re.search(r"<textarea[^>]*>\s*ABC123 Do a thing", page.text)


def test_upload_of_an_html_page(client, admin) -> None:
    html = "<h1>ABC123 Do a thing</h1><h2>Elements and Performance Criteria</h2><p>1 Plan</p>"
    html += "<p>1.1 Plan it</p>"
    page = client.post(
        URL,
        data={"source": (io.BytesIO(html.encode()), "unit.html"), "release": "1", "preview": "1"},
        content_type="multipart/form-data",
    )
    assert "ABC123 release 1: 1 elements, 1 performance criteria" in said(page)


@pytest.mark.parametrize(
    ("name", "body", "message"),
    [
        ("unit.pdf", b"%PDF-1.4", "unit.pdf is not a page this can read: upload a .txt, .md"),
        ("unit.docx", b"not a zip", "unit.docx could not be read as a Word document."),
        ("big.txt", b"x" * (MAX_SOURCE_BYTES + 1), "big.txt is larger than 2 MB; a unit page"),
        # Small on disk, 16 MB of text inside: refused before anything is unpacked.
        (
            "bomb.docx",
            rebuilt(document_mb=16),
            "bomb.docx: Its main text (word/document.xml) unpacks to 16 MB; more than 8 MB",
        ),
        # Small on disk, more text than any unit page once unpacked.
        (
            "long.docx",
            word_file("word " * (MAX_TEXT_CHARS // 5 + 1)),
            f"long.docx holds {MAX_TEXT_CHARS + 5:,} characters of text, more than the "
            f"{MAX_TEXT_CHARS:,} read here",
        ),
        # Tables inside tables past what the XML reader takes (256 levels of elements).
        ("deep.docx", nested_tables(120), "deep.docx nests its content deeper than can be read"),
    ],
    # Named, not shown: the bodies are large, and a zip's bytes hold the time it was made.
    ids=["pdf", "not-a-zip", "too-large", "zip-bomb", "too-much-text", "nested-tables"],
)
def test_unreadable_uploads_are_explained_and_keep_the_form(
    client, admin, name: str, body: bytes, message: str
) -> None:
    # The body is built here: the test client would spool a large one to a file it never closes.
    boundary = "unit-import-test"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"\r\n\r\n{value}\r\n'
        for field, value in (("code", "ABC123"), ("preview", "1"))
    ]
    head = "".join(parts) + (
        f'--{boundary}\r\nContent-Disposition: form-data; name="source"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    body = head.encode() + body + f"\r\n--{boundary}--\r\n".encode()
    page = client.post(URL, data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert page.status_code == 200
    assert message in said(page)
    assert 'value="ABC123"' in page.text
    assert releases() == []


def test_pasted_text_longer_than_any_unit_page_is_refused_and_kept(client, admin) -> None:
    text = "ABC123 Do the work\n" + "x" * MAX_TEXT_CHARS
    page = client.post(URL, data={"text": text, "preview": "1"})
    assert f"The text is longer than the {MAX_TEXT_CHARS:,} characters read here" in said(page)
    assert text[:40] in page.text
    assert releases() == []


def test_empty_form_asks_for_text(client, admin) -> None:
    page = client.post(URL, data={"preview": "1"})
    assert "Paste the unit&#39;s text, or upload its page." in said(page)


def test_download_gives_a_unit_file_that_validates(client, admin, tmp_path) -> None:
    response = client.post(URL, data={"text": seed("MEM16003"), "release": "1", "download": "1"})
    assert response.headers["Content-Disposition"] == "attachment; filename=MEM16003.yaml"
    path = tmp_path / "MEM16003.yaml"
    path.write_bytes(response.data)
    assert load_files([path]).ok


def test_stale_form_is_refused_and_the_text_shown_back(app: Flask, admin, client) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.post(URL, data={"text": seed("TLII5018"), "csrf_token": "stale", "save": "1"})
    assert page.status_code == 400
    assert "The form has expired" in said(page)
    assert "Customer needs are researched" in said(page)
    assert releases() == []


@pytest.mark.parametrize("role", ["learner", "assessor"])
def test_only_admins_add_units(client, make_user, login, role: str) -> None:
    login(make_user(role))
    assert client.get(URL).status_code == 403
    response = client.post(URL, data={"text": seed("TLII5018"), "save": "1"})
    assert response.status_code == 403
    assert releases() == []
    assert db.session.scalar(select(func.count()).select_from(Enrolment)) == 0


def test_units_page_offers_the_import_to_admins_only(client, make_user, login) -> None:
    login(make_user("admin"))
    assert "Add a unit from its text" in client.get("/units").text
    login(make_user("learner"))
    assert "Add a unit from its text" not in client.get("/units").text


# The command line.


def test_cli_import_writes_a_unit_file_that_validates(runner, tmp_path) -> None:
    result = runner.invoke(
        args=[
            *("units", "import", str(DATA / "TLII5018.txt"), "--release", "1"),
            *("--output", str(tmp_path)),
        ]
    )
    assert result.exit_code == 0, result.output
    assert (
        "wrote" in result.output and "TLII5018 release 1, 3 elements, 10 criteria" in result.output
    )
    check = runner.invoke(args=["units", "validate", str(tmp_path / "TLII5018.yaml")])
    assert check.exit_code == 0 and "1 unit files are valid" in check.output
    again = runner.invoke(
        args=[
            *("units", "import", str(DATA / "TLII5018.txt"), "--release", "1"),
            *("--output", str(tmp_path)),
        ]
    )
    assert again.exit_code == 1 and "already exists" in again.output


def test_cli_import_reports_warnings_with_lines_and_asks_for_the_code(runner, tmp_path) -> None:
    tmp_path = tmp_path / "units"
    source = str(DATA / "SITXCCS008.txt")
    result = runner.invoke(args=["units", "import", source, "--output", str(tmp_path)])
    assert result.exit_code == 1
    assert (
        "The text gives no unit code, title or release: give --code, --title and --release"
        in result.output
    )
    assert not tmp_path.exists()
    result = runner.invoke(
        args=[
            *("units", "import", source, "--output", str(tmp_path)),
            *(
                "--code",
                "SITXCCS008",
                "--title",
                "Develop and manage quality service",
                "--release",
                "2",
            ),
        ]
    )
    assert result.exit_code == 0, result.output
    assert f"{source}:140: taken as the next item" in result.output
    assert "12 warnings: check those lines" in result.output
    assert (tmp_path / "SITXCCS008.r2.yaml").exists()


def test_cli_import_refuses_an_unreadable_file(runner, tmp_path) -> None:
    bad = tmp_path / "unit.pdf"
    bad.write_bytes(b"%PDF")
    result = runner.invoke(args=["units", "import", str(bad), "--output", str(tmp_path)])
    assert result.exit_code == 1 and "is not a page this can read" in result.output


def test_a_release_the_text_does_not_give_is_asked_for_not_assumed(client, admin, runner, tmp_path):
    page = client.post(URL, data={"text": seed("TLII5018"), "save": "1"})
    assert page.status_code == 200 and releases() == []
    assert "The text gives no release: type it here." in said(page)
    field = re.search(r'<input[^>]*name="release"[^>]*>', page.text).group(0)
    assert not re.search(r'value="\d', field), field  # nothing filled in for the admin
    assert 'value="Save unit"' not in page.text
    # A text that gives its release needs nothing typed.
    given = client.post(URL, data={"text": "Release: 3\n" + seed("TLII5018"), "preview": "1"})
    assert "TLII5018 release 3: 3 elements" in said(given)
    result = runner.invoke(
        args=["units", "import", str(DATA / "TLII5018.txt"), "--output", str(tmp_path / "u")]
    )
    assert result.exit_code == 1
    assert "The text gives no unit release: give --release; nothing was written." in result.output


def test_a_criterions_own_list_is_shown_and_saved_with_it(client, admin) -> None:
    """The preview lists a criterion's items under it; saved, the criterion a learner maps to
    and an assessor judges holds its list as lines, shown as lines on the unit's page."""
    text = (
        "ABC123 Check work (Release 1)\nElements and Performance Criteria\n1. Plan the work\n"
        "1.1 Identify hazards including:\n• slips\n• falling objects\n1.2 Confirm the plan\n"
        "Performance Evidence\nEvidence of:\n• checking work twice\n"
        "Knowledge Evidence\nKnowledge of:\n• hazards\nAssessment Conditions\n"
        "Skills must be shown in the workplace.\n"
    )
    preview = client.post(URL, data={"text": text, "preview": "1"})
    assert preview.status_code == 200
    shown = said(preview)
    assert 'Identify hazards including:<ul class="unit-list"><li>slips</li><li>falling' in shown
    assert "criterion 1.1, item 2" in shown  # what the source's line 6 became
    saved = client.post(URL, data={"text": text, "save": "1"})
    assert saved.status_code == 302, said(saved)
    page = client.get(saved.headers["Location"])
    assert '<span class="target-text">Identify hazards including:\n• slips\n• falling objects' in (
        page.text
    )
    criterion = db.session.scalars(select(Target).where(Target.anchor == "pc-1.1")).one()
    assert criterion.text == "Identify hazards including:\n• slips\n• falling objects"
