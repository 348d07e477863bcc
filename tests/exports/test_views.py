"""The exports pages as an admin uses them: the forms, each download read back, the bundle job.

Enrolments are decided through the real services (as in ``test_pack``); the bundle is built
before its start request returns (``JOBS_SYNCHRONOUS``), so its pages are checked at once.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl

import docx
import lxml.html
import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select, update

from portfolio.audit.exports import EXPORT_ACTION
from portfolio.audit.log import verify
from portfolio.clock import today as rto_today
from portfolio.exports.jobs import find_bundle
from portfolio.exports.register import COLUMNS
from portfolio.extensions import db
from portfolio.files.storage import storage_from_config
from portfolio.models import (
    AuditEvent,
    Enrolment,
    Job,
)
from portfolio.models.base import utcnow
from tests.exports.conftest import exportable_targets, matrix_grids

UNIT = "TLII5018"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_events() -> list[AuditEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == EXPORT_ACTION).order_by(AuditEvent.seq)
        )
    )


def bundle(job_id: str):
    """The bundle's job as the database has it now."""
    db.session.expire_all()
    return find_bundle(db.session, job_id)


def stored_keys(app) -> set[str]:
    return {key for key, _ in storage_from_config(app.config).stored()}


#: The paths of downloads, which the pages ask for by POST (each writes an audit event).
DOWNLOADS = (".docx", ".pdf", "/register", "/download")


def fetch(client: FlaskClient, url: str):
    """The response, read whole and closed (a download streams its file). A download is sent
    as its form sends it: POST, with the fields given here as the url's query."""
    path, _, query = url.partition("?")
    if path.endswith(DOWNLOADS):
        response = client.post(path, data=dict(parse_qsl(query)))
    else:
        response = client.get(url)
    response.get_data()
    response.close()
    return response


def start(client: FlaskClient, **fields: str):
    return client.post("/admin/exports/bundles", data={f"b-{k}": v for k, v in fields.items()})


def job_of(response) -> str:
    assert response.status_code == 302, response.text
    job = response.location.rsplit("/", 1)[-1]
    assert response.location.endswith(f"/admin/exports/bundles/{job}")
    return job


def read_zip(data: bytes) -> tuple[zipfile.ZipFile, dict]:
    """The archive, after checking every member is listed in its manifest with its hash."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    manifest = json.loads(archive.read("manifest.json"))
    listed = {entry["path"]: entry for entry in manifest["files"]}
    assert len(listed) == len(manifest["files"]), "a path listed twice"
    members = set(archive.namelist()) - {"manifest.json"}
    assert set(listed) == members
    for name in members:
        content = archive.read(name)
        assert hashlib.sha256(content).hexdigest() == listed[name]["sha256"], name
        assert len(content) == listed[name]["size"], name
    return archive, manifest


def messages(response) -> str:
    """The page's text, whitespace collapsed."""
    return " ".join(lxml.html.fromstring(response.data).text_content().split())


# --- The page --------------------------------------------------------------------------------


def test_exports_page_renders_its_three_forms(client, admin, synced) -> None:
    """Three forms sent by POST with the CSRF token, each with its prefixed fields."""
    response = client.get("/admin/exports")
    assert response.status_code == 200
    tree = lxml.html.fromstring(response.data)
    forms = {form.get("action"): form for form in tree.xpath("//main//form")}
    assert set(forms) == {
        "/admin/exports/matrix.docx",
        "/admin/exports/register",
        "/admin/exports/bundles",
    }
    methods = {action: form.method for action, form in forms.items()}
    assert methods == {
        "/admin/exports/matrix.docx": "POST",
        "/admin/exports/register": "POST",
        "/admin/exports/bundles": "POST",
    }
    names = {action: {i.name for i in form.inputs if i.name} for action, form in forms.items()}
    assert {"m-unit", "m-enrolled_from", "m-enrolled_to"} <= names["/admin/exports/matrix.docx"]
    assert {"r-unit", "r-decided_from", "r-decided_to", "r-format"} <= names[
        "/admin/exports/register"
    ]
    assert {"b-unit", "b-decided_from", "b-decided_to", "b-enrolments"} <= names[
        "/admin/exports/bundles"
    ]
    units = ["BSBCUS501", "INSCS042", "MEM16003", "SITXCCS008", "TLII5018"]
    matrix_units = forms["/admin/exports/matrix.docx"].inputs["m-unit"].value_options
    assert matrix_units == units  # a matrix is of one unit: no "every unit"
    register_units = forms["/admin/exports/register"].inputs["r-unit"].value_options
    assert register_units == ["", *units]
    assert forms["/admin/exports/register"].inputs["r-format"].value == "csv"
    assert export_events() == []  # looking at the page is not an export


# --- Matrix ----------------------------------------------------------------------------------


def test_matrix_download_has_a_column_per_learner(
    client, admin, decided, make_enrolment, make_user
):
    """Everyone enrolled in the unit, decided or not, in name order; other units' learners not."""
    decided(), decided()
    make_enrolment(learner=make_user("learner", name="Zoe Started"), unit=UNIT)
    make_enrolment(learner=make_user("learner", name="Mo Elsewhere"), unit="MEM16003")
    response = fetch(client, f"/admin/exports/matrix.docx?m-unit={UNIT}")
    assert response.status_code == 200
    assert response.mimetype == DOCX
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=mapping-matrix-{UNIT}-{rto_today().isoformat()}.docx"
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    document = docx.Document(io.BytesIO(response.data))
    [grid] = matrix_grids(document)
    learners = [cell.text.split("\n")[0] for cell in grid.rows[0].cells[1:]]
    assert learners == ["Lee Learner 0", "Lee Learner 1", "Zoe Started"]
    assert len(grid.rows) == 1 + len(exportable_targets(db.session.scalar(select(Enrolment))))
    [event] = export_events()
    assert event.after["kind"] == "matrix" and event.after["count"] == 3


def test_matrix_of_an_unknown_unit_is_refused(client, admin, synced) -> None:
    """A unit not in the list is a form error on the page, not a download."""
    response = fetch(client, "/admin/exports/matrix.docx?m-unit=NOPE123")
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "Content-Disposition" not in response.headers
    assert "Not a valid choice" in messages(response)
    assert export_events() == []


def test_matrix_with_a_reversed_enrolment_range_is_refused(client, admin, decided) -> None:
    decided()
    today = rto_today()
    response = fetch(
        client,
        f"/admin/exports/matrix.docx?m-unit={UNIT}"
        f"&m-enrolled_from={today + timedelta(days=30)}&m-enrolled_to={today}",
    )
    assert response.status_code == 400
    assert "Content-Disposition" not in response.headers
    assert export_events() == []


# --- Register --------------------------------------------------------------------------------


def test_register_csv_download(client, admin, decided) -> None:
    """UTF-8 with a byte order mark for Excel; the header, then a row per decided enrolment."""
    decided(), decided()
    response = fetch(client, "/admin/exports/register?r-format=csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=outcomes-register-{rto_today().isoformat()}.csv"
    )
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))
    assert rows[0] == list(COLUMNS)
    body = [dict(zip(COLUMNS, row, strict=True)) for row in rows[1:]]
    assert [r["Learner"] for r in body] == ["Lee Learner 0", "Lee Learner 1"]
    assert [r["Student ID"] for r in body] == ["S1000", "S1001"]
    assert {r["Unit code"] for r in body} == {UNIT}
    assert {r["AVETMISS outcome code"] for r in body} == {"20"}
    assert {r["Outcome"] for r in body} == {"Competent"}
    assert {r["Outcome date"] for r in body} == {rto_today().isoformat()}
    assert {r["Enrolment type"] for r in body} == {"Assessment"}
    [event] = export_events()
    assert event.after["kind"] == "register" and event.after["count"] == 2
    assert event.after["format"] == "csv"


def test_register_xlsx_download(client, admin, decided) -> None:
    """The same rows as a workbook: the code as text, the decision date as a date."""
    decided()
    response = fetch(client, f"/admin/exports/register?r-format=xlsx&r-unit={UNIT}")
    assert response.status_code == 200
    assert response.mimetype == XLSX
    assert response.headers["Content-Disposition"].endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == COLUMNS
    assert len(rows) == 2
    row = dict(zip(COLUMNS, rows[1], strict=True))
    assert row["Learner"] == "Lee Learner 0" and row["Unit code"] == UNIT
    assert row["AVETMISS outcome code"] == "20"  # text, never the number 20
    assert row["Outcome date"].date() == rto_today()
    [event] = export_events()
    assert event.after["format"] == "xlsx" and event.after["count"] == 1


def test_register_filters_by_unit_and_decision_date(client, admin, decided) -> None:
    """A filter that matches nothing is a register of the header alone, not an error."""
    decided()
    today = rto_today()

    def learners(query: str) -> list[str]:
        response = fetch(client, f"/admin/exports/register?r-format=csv&{query}")
        assert response.status_code == 200, query
        rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))
        return [row[0] for row in rows[1:]]

    assert learners(f"r-decided_from={today}&r-decided_to={today}") == ["Lee Learner 0"]
    assert learners(f"r-decided_from={today + timedelta(days=1)}") == []
    assert learners(f"r-decided_to={today - timedelta(days=1)}") == []
    assert learners("r-unit=MEM16003") == []
    assert learners(f"r-unit={UNIT}") == ["Lee Learner 0"]
    unknown = fetch(client, "/admin/exports/register?r-format=csv&r-unit=NOPE123")
    assert unknown.status_code == 400 and "Not a valid choice" in messages(unknown)


def test_register_with_a_reversed_date_range_is_a_400_page(client, admin, decided) -> None:
    """decided_from after decided_to: the form again with the reason, and no download."""
    decided()
    response = fetch(
        client,
        "/admin/exports/register?r-format=csv&r-decided_from=2026-12-01&r-decided_to=2026-01-01",
    )
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "Content-Disposition" not in response.headers
    assert "The start date is after the end date." in messages(response)
    assert export_events() == []


def test_register_with_a_malformed_date_is_a_400_page(client, admin, synced) -> None:
    response = fetch(client, "/admin/exports/register?r-format=csv&r-decided_from=31/12/2026")
    assert response.status_code == 400
    assert "Content-Disposition" not in response.headers
    assert "Not a valid date value." in messages(response)
    assert export_events() == []


# --- Evidence pack ---------------------------------------------------------------------------


def test_pack_download_by_the_assessor_is_recorded_as_the_assessor(client, decided, login) -> None:
    """The assigned assessor takes a copy: a Word file, one export event in their name."""
    enrolment = decided()
    assessor = enrolment.assessor
    login(assessor)
    response = fetch(client, f"/enrolments/{enrolment.id}/evidence-pack.docx")
    assert response.status_code == 200
    assert response.mimetype == DOCX
    assert response.headers["Content-Disposition"].startswith("attachment; filename=evidence-pack-")
    assert "TLII5018" in "\n".join(
        p.text for p in docx.Document(io.BytesIO(response.data)).paragraphs
    )
    [event] = export_events()
    assert (event.actor_id, event.actor_role) == (assessor.id, "assessor")
    assert event.enrolment_id == enrolment.id
    assert event.after["kind"] == "pack" and event.after["count"] == 1


# --- Bundle ----------------------------------------------------------------------------------


def test_bundle_started_from_the_page(app, client, admin, decided) -> None:
    """302 to the progress page; the status says done; the ZIP matches its manifest."""
    decided()
    decided(unit="MEM16003")  # decided, but another unit: not in this bundle
    job = job_of(start(client, unit=UNIT))
    assert job.isalnum()

    progress = fetch(client, f"/admin/exports/bundles/{job}")
    assert progress.status_code == 200
    text = messages(progress)
    assert f"Audit bundle: {UNIT}" in text and "Ready: 1 enrolment," in text
    buttons = lxml.html.fromstring(progress.data).xpath("//form[button[@data-download]]/@action")
    assert buttons == [f"/admin/exports/bundles/{job}/download"]

    status = client.get(f"/admin/exports/bundles/{job}/status")
    assert status.status_code == 200
    body = status.get_json()
    assert body["state"] == "done"
    assert (body["done"], body["total"]) == (1, 1)
    assert body["message"] == ""

    download = fetch(client, f"/admin/exports/bundles/{job}/download")
    assert download.status_code == 200
    assert download.mimetype == "application/zip"
    assert download.headers["Content-Disposition"] == (
        f"attachment; filename=audit-bundle-{rto_today().isoformat()}.zip"
    )
    assert body["size"] == len(download.data)
    archive, manifest = read_zip(download.data)
    assert manifest["enrolments"] == 1
    assert manifest["selection"] == UNIT
    names = set(archive.namelist())
    packs = [n for n in names if "/evidence-pack-" in n]
    assert len(packs) == 1 and packs[0].startswith("Lee-Learner-0-")
    assert sum(1 for n in names if "/evidence/" in n) == 2  # the PDF and the photo
    assert {
        "outcomes-register.csv",
        "outcomes-register.xlsx",
        f"mapping-matrix-{UNIT}.docx",
        "manifest.json",
    } <= names
    register = archive.read("outcomes-register.csv").decode("utf-8")
    assert "Lee Learner 0" in register and "Lee Learner 1" not in register
    # Kept in the evidence store (any app server can send it), nothing in the instance folder.
    built = bundle(job)
    assert built.result_key in stored_keys(app) and built.result_size == len(download.data)
    assert built.attempts == 1
    assert not (Path(app.instance_path) / "exports").exists()


def test_bundle_download_by_a_signed_link_to_the_store(
    app, client, admin, decided, s3_server
) -> None:
    """S3_DOWNLOADS=presigned: the copy is recorded, then the browser is sent to a link the
    store answers with the whole ZIP under the bundle's name."""
    from tests.evidence.test_s3_store import fetch as follow

    app.config.update(s3_server.fresh(), S3_DOWNLOADS="presigned")
    decided()
    job = job_of(start(client, unit=UNIT))
    answer = client.post(f"/admin/exports/bundles/{job}/download")
    assert answer.status_code == 303 and answer.location.startswith(s3_server.endpoint)
    status, headers, data = follow(answer.location)
    assert status == 200 and len(data) == bundle(job).result_size
    assert headers["Content-Disposition"] == (
        f'attachment; filename="audit-bundle-{rto_today().isoformat()}.zip"'
    )
    _, manifest = read_zip(data)
    assert manifest["enrolments"] == 1
    assert any(event.after.get("kind") == "bundle-download" for event in export_events())


def test_bundles_are_deleted_after_the_keep_period(app, client, admin, decided) -> None:
    """A bundle older than BUNDLE_KEEP_DAYS is gone once another is asked for; its page says so."""
    decided()
    old = job_of(start(client, unit=UNIT))
    old_file = bundle(old).result_key
    decided()  # a bundle of other content, so it has a file of its own
    recent = job_of(start(client, unit=UNIT))
    for job_id, days in ((old, 8), (recent, 6)):
        db.session.execute(
            update(Job).where(Job.id == job_id).values(created_at=utcnow() - timedelta(days=days))
        )
    db.session.commit()

    new = job_of(start(client, unit=UNIT))
    assert bundle(old) is None and bundle(recent) is not None and bundle(new) is not None
    assert old_file not in stored_keys(app)
    gone = fetch(client, f"/admin/exports/bundles/{old}")
    assert gone.status_code == 404
    assert "Bundles are deleted 7 days after they are built" in messages(gone)
    assert fetch(client, f"/admin/exports/bundles/{old}/download").status_code == 404
    assert fetch(client, f"/admin/exports/bundles/{recent}/download").status_code == 200


def test_bundle_of_hand_picked_enrolments(client, admin, decided) -> None:
    """ "12, 15" picks those enrolments, whatever their unit."""
    first, second = decided(), decided(unit="MEM16003")
    decided()  # not picked
    job = job_of(start(client, enrolments=f"{first.id}, {second.id}"))
    body = client.get(f"/admin/exports/bundles/{job}/status").get_json()
    assert (body["state"], body["total"]) == ("done", 2)
    archive, manifest = read_zip(fetch(client, f"/admin/exports/bundles/{job}/download").data)
    assert manifest["enrolments"] == 2
    assert manifest["selection"] == "2 chosen enrolments"
    assert {f"mapping-matrix-{UNIT}.docx", "mapping-matrix-MEM16003.docx"} <= set(
        archive.namelist()
    )


@pytest.mark.parametrize("job", ["abcdef123456", "0"])
def test_unknown_bundle_is_not_found(client, admin, synced, job) -> None:
    for suffix in ("", "/status", "/download"):
        assert fetch(client, f"/admin/exports/bundles/{job}{suffix}").status_code == 404


@pytest.mark.parametrize(
    "job", ["..", "abc.json", "abc-def", "abc_def", "abc%20def", "..%2F..%2Fsecret_key", "%00"]
)
def test_bundle_id_with_odd_characters_is_not_found(app, client, admin, decided, job) -> None:
    """Only the generated alphanumeric ids name a job: anything else is a 404, not a file."""
    decided()
    real = job_of(start(client, unit=UNIT))
    for suffix in ("", "/status", "/download"):
        assert fetch(client, f"/admin/exports/bundles/{job}{suffix}").status_code == 404, suffix
        # Not even a real job's name with something added.
        odd = f"{real}.json" if job == "abc.json" else f"{real}{job}"
        assert fetch(client, f"/admin/exports/bundles/{odd}{suffix}").status_code == 404, odd


def test_bundle_still_running_has_no_download_yet(app, client, admin, decided) -> None:
    """The page shows the count so far; the download waits until the ZIP is done."""
    from portfolio.models import Job, JobState

    db.session.add(
        Job(
            id="running1",
            kind="bundle",
            description="TLII5018",
            state=JobState.RUNNING,
            done=1,
            total=3,
            requested_by_id=admin.id,
        )
    )
    db.session.commit()
    progress = fetch(client, "/admin/exports/bundles/running1")
    assert progress.status_code == 200
    assert "1 of 3 enrolments added" in messages(progress)
    status = client.get("/admin/exports/bundles/running1/status").get_json()
    assert (status["state"], status["done"], status["total"]) == ("running", 1, 3)
    assert fetch(client, "/admin/exports/bundles/running1/download").status_code == 404

    # Still "running" long after any run would have ended: its process was stopped.
    db.session.execute(
        update(Job).where(Job.id == "running1").values(created_at=utcnow() - timedelta(days=2))
    )
    db.session.commit()
    stopped = client.get("/admin/exports/bundles/running1/status").get_json()
    assert stopped["state"] == "failed"
    assert stopped["message"].startswith("It did not finish")


def test_bundle_that_fails_says_why(app, client, admin, decided) -> None:
    """An evidence file gone from the store: the job fails, the page says so, nothing recorded."""
    decided()
    for path in Path(app.config["EVIDENCE_DIR"]).rglob("*"):
        if path.is_file():
            path.unlink()
    job = job_of(start(client, unit=UNIT))
    body = client.get(f"/admin/exports/bundles/{job}/status").get_json()
    assert body["state"] == "failed"
    assert body["message"]
    assert "could not be built" in messages(fetch(client, f"/admin/exports/bundles/{job}"))
    assert fetch(client, f"/admin/exports/bundles/{job}/download").status_code == 404
    assert export_events() == []
    assert bundle(job).result_key is None


def test_bundle_that_fails_leaves_no_partial_file(app, client, admin, decided) -> None:
    decided()
    for path in Path(app.config["EVIDENCE_DIR"]).rglob("*"):
        if path.is_file():
            path.unlink()
    job = job_of(start(client, unit=UNIT))
    assert bundle(job).state.value == "failed"
    assert stored_keys(app) == set()
    assert list((Path(app.config["EVIDENCE_DIR"]) / "tmp").iterdir()) == []


def test_bundle_when_nothing_matches(app, client, admin, decided) -> None:
    """No decided enrolment in the selection: the page says so, and no job is started."""
    decided()
    today = rto_today()
    for fields in (
        {"unit": "MEM16003"},
        {"decided_from": str(today + timedelta(days=1))},
        {"unit": UNIT, "decided_to": str(today - timedelta(days=1))},
    ):
        response = start(client, **fields)
        assert response.status_code == 400, fields
        assert "No decided enrolment matches that selection." in messages(response), fields
    assert db.session.scalars(select(Job)).all() == []
    assert export_events() == []


def test_bundle_with_a_reversed_date_range(app, client, admin, decided) -> None:
    decided()
    response = start(client, decided_from="2026-12-01", decided_to="2026-01-01")
    assert response.status_code == 400
    assert "The start date is after the end date." in messages(response)
    assert db.session.scalars(select(Job)).all() == []


@pytest.mark.parametrize("picked", ["abc", "12, abc", "12 15", "-3", "1.5"])
def test_bundle_with_hand_picked_ids_that_are_not_numbers(app, client, admin, decided, picked):
    decided()
    response = start(client, enrolments=picked)
    assert response.status_code == 400
    assert "List enrolment numbers separated by commas, e.g. 12, 15, 31." in messages(response)
    assert db.session.scalars(select(Job)).all() == []
    assert export_events() == []


def test_bundle_with_an_unknown_enrolment_id(app, client, admin, decided) -> None:
    enrolment = decided()
    response = start(client, enrolments=f"{enrolment.id}, 999999")
    assert response.status_code == 400
    assert "No enrolment has the id 999999." in messages(response)
    assert db.session.scalars(select(Job)).all() == []


# --- The audit log ---------------------------------------------------------------------------


def test_each_export_is_one_audit_event(client, admin, decided) -> None:
    """Pack, matrix, register, bundle and the bundle's download: one "export.created" each.

    Looking at the bundle's progress adds nothing; taking the finished file is a copy too.
    """
    enrolment = decided()
    assert fetch(client, f"/enrolments/{enrolment.id}/evidence-pack.docx").status_code == 200
    assert fetch(client, f"/admin/exports/matrix.docx?m-unit={UNIT}").status_code == 200
    assert fetch(client, "/admin/exports/register?r-format=xlsx").status_code == 200
    job = job_of(start(client, unit=UNIT))
    assert fetch(client, f"/admin/exports/bundles/{job}").status_code == 200
    assert client.get(f"/admin/exports/bundles/{job}/status").status_code == 200
    download = fetch(client, f"/admin/exports/bundles/{job}/download")
    assert download.status_code == 200

    events = export_events()
    kinds = ["pack", "matrix", "register", "bundle", "bundle-download"]
    assert [e.after["kind"] for e in events] == kinds
    assert [e.subject for e in events] == [f"export:{kind}" for kind in kinds]
    assert {(e.actor_id, e.actor_role) for e in events} == {(admin.id, "admin")}
    assert [e.after["count"] for e in events] == [1, 1, 1, 1, 1]
    assert [e.enrolment_id for e in events] == [enrolment.id, None, None, None, None]
    pack, matrix, register, bundle, _ = (e.after for e in events)
    assert pack["description"].startswith("Evidence pack ")
    assert matrix["description"] == f"Unit mapping matrix {UNIT}"
    assert register["description"] == "Outcomes register: all units, all dates"
    assert bundle["description"] == f"Audit bundle: {UNIT}"
    assert bundle["job"] == job and bundle["bytes"] == len(download.data)
    assert verify(db.session).ok


def test_a_link_from_elsewhere_adds_nothing_to_the_log(app, client, admin, decided) -> None:
    """Downloads that write an audit event are POSTs with the form's token: a GET (a link or
    image on another site) is refused, and so is a POST without the token. Before, any link
    to a download added an export event in the admin's name."""
    enrolment = decided()
    job = job_of(start(client, unit=UNIT))
    app.config["WTF_CSRF_ENABLED"] = True
    downloads = [
        f"/enrolments/{enrolment.id}/evidence-pack.docx",
        f"/admin/exports/matrix.docx?m-unit={UNIT}",
        "/admin/exports/register?r-format=csv",
        f"/admin/exports/bundles/{job}/download",
        "/units/TLII5018/releases/1/moodle.csv",
        "/units/TLII5018/releases/1/mahara.matrix",
    ]
    before = len(export_events())
    for url in downloads:
        assert client.get(url).status_code == 405, url
        path, _, query = url.partition("?")
        assert client.post(path, data=dict(parse_qsl(query))).status_code == 400, url
    assert len(export_events()) == before

    # The pages' own buttons carry the token and work.
    page = client.get(f"/enrolments/{enrolment.id}/review").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    for url in downloads:
        path, _, query = url.partition("?")
        response = client.post(path, data={**dict(parse_qsl(query)), "csrf_token": token})
        response.close()
        assert response.status_code == 200, url
        assert response.headers["Content-Disposition"].startswith("attachment;")
    assert len(export_events()) == before + len(downloads)


def test_names_typed_by_people_never_reach_a_path(app, client, admin, decided) -> None:
    """A student ID of ``../../x`` and a file named ``run.bat`` stay inside their folder and
    ending: every ZIP member and download name is made of safe characters. Before, the
    student ID went into the pack's member and download names as typed (a zip slip for a
    naive extractor)."""
    enrolment = decided(files=("pdf",))
    learner = enrolment.learner
    learner.student_id = "..\\../../etc/cron.d/S1"
    learner.name = "Lee/..\\Learner"
    db.session.commit()

    pack = fetch(client, f"/enrolments/{enrolment.id}/evidence-pack.docx")
    disposition = pack.headers["Content-Disposition"]
    assert disposition == "attachment; filename=etc-cron.d-S1-TLII5018-r1.docx".replace(
        "filename=", "filename=evidence-pack-"
    )

    job = job_of(start(client, unit=UNIT))
    archive, manifest = read_zip(fetch(client, f"/admin/exports/bundles/{job}/download").data)
    for name in archive.namelist():
        parts = name.split("/")
        assert not name.startswith("/") and "\\" not in name, name
        assert all(part not in ("", ".", "..") for part in parts), name
        assert all(re.fullmatch(r"[A-Za-z0-9._-]+", part) for part in parts), name
    assert {entry["path"] for entry in manifest["files"]} <= set(archive.namelist())
    folders = {name.split("/")[0] for name in archive.namelist() if "/" in name}
    assert folders == {"Lee-Learner-etc-cron.d-S1-TLII5018-r1"}
