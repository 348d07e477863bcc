"""A validation as an RTO runs it: the plan, the draw, validators' findings and tool review,
actions, completion, the report and the bundle for the auditor; every refusal in words with
nothing changed."""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from datetime import timedelta

import docx
from sqlalchemy import func, select

from portfolio.clock import today
from portfolio.extensions import db
from portfolio.models import (
    AuditEvent,
    EvidenceFile,
    EvidenceItem,
    EvidenceVersion,
    Target,
    Validation,
    ValidationFinding,
    ValidationPlan,
)
from portfolio.validation import rules, services
from portfolio.validation.rules import Candidate
from tests.packs import text

UNIT = "TLII5018"


def page(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def plan(client, risk="high", reasons=("New assessor",), notes=""):
    return client.post(
        f"/admin/validation/{UNIT}/plan",
        data={"risk": risk, "reasons": list(reasons), "notes": notes},
    )


def draw(client, validators, size=3, days=30, **fields):
    data = {
        "decided_from": (today() - timedelta(days=days)).isoformat(),
        "decided_to": today().isoformat(),
        "size": str(size),
        "validators": [str(v.id) for v in validators],
        **fields,
    }
    return client.post(f"/admin/validation/{UNIT}/draw", data=data)


def criteria(enrolment) -> list[Target]:
    return list(
        db.session.scalars(
            select(Target)
            .where(Target.unit_release_id == enrolment.unit_release_id, Target.is_group.is_(False))
            .order_by(Target.position)
        )
    )


def findings_body(enrolment, disagree: dict[str, str] | None = None) -> dict:
    disagree = disagree or {}
    body = {}
    for t in criteria(enrolment):
        body[f"agree-{t.id}"] = "no" if t.ref in disagree else "yes"
        body[f"note-{t.id}"] = disagree.get(t.ref, "")
    return body


def events(action: str) -> int:
    return db.session.scalar(select(func.count()).where(AuditEvent.action == action))


def test_a_plan_needs_a_reason_and_sets_frequency_and_sample(client, admin, reasons, synced):
    """Refused in words without a reason, nothing saved; then kept with what it sets."""
    response = plan(client, reasons=())
    assert response.status_code == 200
    assert "at least one reason" in page(response)
    assert db.session.scalar(select(func.count()).select_from(ValidationPlan)) == 0
    assert plan(client, risk="medium", reasons=reasons[:2]).status_code == 302
    overview = page(client.get("/admin/validation"))
    row = overview.split("data-plans", 1)[1].split(UNIT, 1)[1].split("</tr>", 1)[0]
    assert "Medium" in row and "Every 2 years" in row and "15% of the decided" in row
    assert "Due now" in row
    assert events("validation.plan-saved") == 1


def test_an_rto_plans_draws_validates_and_completes(
    app, client, admin, reasons, decided, make_user, give_tae, login, runner
):
    """The whole loop, with each refusal the issue names on the way."""
    app.config["JOBS_SYNCHRONOUS"] = True
    enrolments = [decided() for _ in range(4)]
    validator = make_user("assessor", name="Val Validator")
    give_tae(validator)
    plan(client, risk="high")

    counted = page(client.get(f"/admin/validation/{UNIT}/draw"))
    assert "4 enrolments decided in the period" in counted
    assert re.search(r"sample of <strong>4</strong>", counted)

    # A sample larger than the population.
    refused = draw(client, [validator], size=5)
    assert "larger than the 4 enrolments decided in the period" in page(refused)
    # No validator with a TAE credential.
    untrained = make_user("assessor", name="Una Untrained")
    assert "training and assessment credential" in page(draw(client, [untrained]))
    # The only validator assessed a sampled enrolment.
    own = enrolments[0].assessor
    give_tae(own)
    refused = page(draw(client, [own], size=4))
    assert "may not validate an enrolment they assessed" in refused
    assert db.session.scalar(select(func.count()).select_from(Validation)) == 0

    response = draw(client, [validator, own], size=3)
    assert response.status_code == 302
    validation = db.session.scalars(select(Validation)).one()
    sampled = [s.enrolment_id for s in validation.samples]
    population = [Candidate.from_json(r) for r in validation.population]
    assert len(validation.seed) == 16  # made by the server, not chosen
    assert sampled == [c.enrolment_id for c in rules.draw(population, validation.seed, 3)]
    assert len({c.stratum for c in population}) == 4 and len(sampled) == 3
    assert events("validation.drawn") == 1
    result = runner.invoke(args=["validation", "redraw", str(validation.id)])
    assert result.exit_code == 0 and "The same enrolments, in the same order." in result.output

    # The validator's work.
    login(validator)
    assert f"Validation {validation.id}: {UNIT}" in page(client.get("/validations"))
    overview = page(client.get(f"/validations/{validation.id}"))
    assert "Drawn again: the same sample" in overview
    first = validation.samples[0]
    url = f"/validations/{validation.id}/samples/{first.id}"
    shown = page(client.get(url))
    assert "Satisfactory" in shown and "Met: " in shown and "Evidence 0" in shown
    body = findings_body(first.enrolment, {"1.1": ""})
    refused = client.post(url, data=body)
    assert "Say why you do not agree with the judgement on 1.1" in page(refused)
    assert db.session.scalar(select(func.count()).select_from(ValidationFinding)) == 0
    body = findings_body(first.enrolment, {"1.1": "The plan shown does not cover the route."})
    assert client.post(url, data=body).status_code == 302
    assert events("validation.findings-recorded") == 1

    # A file of the sampled enrolment opens; one of an enrolment not sampled does not.
    link = re.search(r'href="(/validations/\d+/samples/\d+/files/)(\d+)"', shown)
    opened = client.get(link.group(1) + link.group(2))
    assert opened.status_code == 200 and opened.headers["Content-Disposition"].startswith("inline")
    opened.close()
    outside = next(e for e in enrolments if e.id not in sampled)
    stranger = db.session.scalar(
        select(EvidenceFile.id)
        .join(EvidenceFile.version)
        .join(EvidenceVersion.item)
        .where(EvidenceItem.enrolment_id == outside.id)
    )
    assert client.get(link.group(1) + str(stranger)).status_code == 404

    tool = {"consistent": "yes", "sufficient": "no", "valid": "yes", "note": ""}
    refused = client.post(f"/validations/{validation.id}/tool", data=tool, follow_redirects=True)
    assert "what is wrong with the tool" in page(refused)
    tool["note"] = "Task 3 asks for one plan; the unit needs two."
    client.post(f"/validations/{validation.id}/tool", data=tool)

    # Completing waits for every sampled enrolment.
    login(admin)
    shown = page(client.post(f"/validations/{validation.id}/complete", follow_redirects=True))
    assert "Not yet complete: still to record findings on enrolment" in shown
    due = (today() + timedelta(days=30)).isoformat()
    client.post(
        f"/validations/{validation.id}/actions",
        data={"what": "Add a second plan to task 3", "owner": str(validator.id), "due_on": due},
    )
    login(validator)
    for sample in validation.samples[1:]:
        client.post(
            f"/validations/{validation.id}/samples/{sample.id}",
            data=findings_body(sample.enrolment),
        )
    mine = page(client.get("/validations"))
    assert "Add a second plan to task 3" in mine
    action = validation.actions[0]
    client.post(f"/validation-actions/{action.id}/close", data={"changed": "Task 3 rewritten."})
    db.session.expire_all()
    assert action.closed_at is not None and action.changed == "Task 3 rewritten."

    login(admin)
    client.post(f"/validations/{validation.id}/complete")
    db.session.expire_all()
    assert validation.completed_at is not None
    assert events("validation.completed") == 1
    overview = page(client.get("/admin/validation"))
    assert (
        "Due now" not in overview.split("data-plans", 1)[1].split(UNIT, 1)[1].split("</tr>", 1)[0]
    )

    # The report.
    response = client.post(f"/validations/{validation.id}/report.docx")
    assert response.status_code == 200
    report = text(docx.Document(io.BytesIO(response.data)))
    assert "Validation report" in report and validation.seed in report
    assert "The plan shown does not cover the route." in report
    assert "Task 3 asks for one plan; the unit needs two." in report
    assert "Add a second plan to task 3" in report and "Task 3 rewritten." in report
    assert "the same enrolments, in the same order" in report

    # The bundle for the auditor.
    response = client.post(f"/validations/{validation.id}/bundle")
    job = response.location.rsplit("/", 1)[-1]
    zipped = client.post(f"/admin/exports/bundles/{job}/download")
    archive = zipfile.ZipFile(io.BytesIO(zipped.data))
    zipped.close()
    names = archive.namelist()
    assert "validation/validation-report.docx" in names
    record = json.loads(archive.read("validation/sample.json"))
    assert record["seed"] == validation.seed and record["sample"] == sampled
    assert len(record["population"]) == 4
    packs = [n for n in names if "/evidence-pack-" in n]
    assert len(packs) == 3
    manifest = json.loads(archive.read("manifest.json"))
    assert "validation/findings.csv" in {f["path"] for f in manifest["files"]}
    assert "Add a second plan to task 3" in archive.read("validation/actions.csv").decode()


def test_a_validator_who_assessed_a_sampled_enrolment_cannot_record_findings_on_it(
    client, admin, reasons, decided, make_user, give_tae, login
):
    """Independence is checked at the finding too: the page says why, the post is refused."""
    enrolment = decided()
    own = enrolment.assessor
    validator = make_user("assessor", name="Val Validator")
    give_tae(validator)
    plan(client, risk="low")
    assert draw(client, [validator, own], size=1).status_code == 302
    validation = db.session.scalars(select(Validation)).one()
    sample = validation.samples[0]
    login(own)
    url = f"/validations/{validation.id}/samples/{sample.id}"
    shown = page(client.get(url))
    assert "You took part in assessing this enrolment" in shown
    assert 'name="agree-' not in shown
    refused = page(client.post(url, data=findings_body(enrolment)))
    assert "a validator may not validate an enrolment they assessed" in refused
    assert db.session.scalar(select(func.count()).select_from(ValidationFinding)) == 0
    login(validator)
    assert client.post(url, data=findings_body(enrolment)).status_code == 302


def test_an_empty_list_of_reasons_starts_from_the_usual_ones(client, admin, synced):
    """One button adds the usual reasons; adding one already there is refused in words."""
    shown = page(client.get("/admin/validation"))
    assert "Add the usual reasons" in shown
    client.post("/admin/validation/reasons", data={"usual": "1"})
    assert len(services.risk_reasons(db.session)) == len(rules.DEFAULT_REASONS)
    again = page(
        client.post(
            "/admin/validation/reasons", data={"label": "New assessor"}, follow_redirects=True
        )
    )
    assert "'New assessor' is already on the list." in again
    assert "Add the usual reasons" not in again


def test_the_report_reads_as_pdf_pages(
    client, admin, reasons, decided, make_user, give_tae, to_pdf_text, tmp_path
):
    """Opened by LibreOffice as an auditor would print it: every section, the seed, the rule."""
    for _ in range(2):
        decided()
    validator = make_user("assessor", name="Val Validator")
    give_tae(validator)
    plan(client, risk="medium", reasons=reasons)
    draw(client, [validator], size=2)
    validation = db.session.scalars(select(Validation)).one()
    response = client.post(f"/validations/{validation.id}/report.docx")
    path = tmp_path / "report.docx"
    path.write_bytes(response.data)
    pdf, pages = to_pdf_text(path, layout=False)
    assert pages >= 1
    flat = " ".join(pdf.split())
    for heading in (
        "Validation report",
        "The sample",
        "Where the validators did not agree",
        "The assessment tool",
        "Actions",
        "Drawing the sample again",
    ):
        assert heading in flat
    assert validation.seed in flat and "15% of the decided enrolments, at least 5" in flat
    assert "Not yet reviewed." in flat and "No action was opened." in flat


def test_a_double_submit_draws_once_and_opens_one_action(
    client, admin, reasons, decided, make_user, give_tae
):
    """The same draw twice, and the same action twice: the second is refused in words."""
    decided()
    validator = make_user("assessor", name="Val Validator")
    give_tae(validator)
    plan(client)
    assert draw(client, [validator], size=1).status_code == 302
    again = page(draw(client, [validator], size=1))
    assert "for this period was drawn already: validation" in again
    assert "A period is sampled once" in again
    assert db.session.scalar(select(func.count()).select_from(Validation)) == 1
    validation = db.session.scalars(select(Validation)).one()
    due = (today() + timedelta(days=5)).isoformat()
    body = {"what": "Reword task 2", "owner": str(validator.id), "due_on": due}
    client.post(f"/validations/{validation.id}/actions", data=body)
    shown = page(
        client.post(f"/validations/{validation.id}/actions", data=body, follow_redirects=True)
    )
    assert "That action is open already." in shown
    db.session.expire_all()
    assert len(validation.actions) == 1


def test_a_malformed_size_or_date_is_shown_on_its_field(client, admin, reasons, synced):
    plan(client)
    shown = page(
        client.post(
            f"/admin/validation/{UNIT}/draw",
            data={"decided_from": "someday", "decided_to": "2026-12-01", "size": "many"},
        )
    )
    assert "Not a valid date value" in shown and "Not a valid integer value" in shown
    assert "form had expired" not in shown
    assert db.session.scalar(select(func.count()).select_from(Validation)) == 0
