"""Observation checklists and question banks: kept per unit, filled in during an observation
or a conversation, saved as one sign-off record for the criteria they showed."""

from __future__ import annotations

import html
import io
import re

import docx
import lxml.html
from sqlalchemy import select

from portfolio.assessment.ledger import compare_with_log
from portfolio.extensions import db
from portfolio.models import (
    AssessmentTemplate,
    AuditEvent,
    Finding,
    GapSignoff,
    Judgement,
    Target,
    TemplateItem,
    UnitRelease,
)
from tests.assessment.test_review import competent, count, review_url, start

TEMPLATES = "/units/TLII5018/releases/1/templates"


def lines(s, **by_anchor: list[str]) -> dict[str, str]:
    """The editor's boxes: ``pc_2_1=["..."]`` fills the box of 2.1; the others are empty."""
    boxes = {f"lines-{t.id}": "" for t in s.targets}
    for anchor, texts in by_anchor.items():
        boxes[f"lines-{s.target(anchor.replace('_', '-', 1).replace('_', '.')).id}"] = "\n".join(
            texts
        )
    return boxes


def make_template(client, s, kind: str, title: str, **by_anchor: list[str]) -> AssessmentTemplate:
    response = client.post(
        f"{TEMPLATES}/new?kind={kind}", data={"title": title, **lines(s, **by_anchor)}
    )
    assert response.status_code == 302, response.text
    return db.session.scalar(select(AssessmentTemplate).where(AssessmentTemplate.title == title))


def fill_url(s, template: AssessmentTemplate) -> str:
    return f"{review_url(s)}/templates/{template.id}"


def hidden(client, url: str, name: str) -> str:
    """A hidden field of the form as the page renders it (the version it was opened at)."""
    [value] = lxml.html.fromstring(client.get(url).data).xpath(f"//input[@name='{name}']/@value")
    return value


def items(template: AssessmentTemplate) -> dict[str, TemplateItem]:
    db.session.refresh(template)
    return {item.text: item for item in template.items}


def events(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
        )
    )


def test_a_checklist_starts_from_the_units_criteria_and_is_kept_per_release(
    client, submitted, login, make_user
) -> None:
    """An assessor builds a checklist from the criteria's own words, an admin edits it; each
    save is logged with before and after, and items that stay keep their identity."""
    s = submitted()
    login(s.assessor)
    page = lxml.html.fromstring(client.get(f"{TEMPLATES}/new?kind=observation").data)
    first_pc = s.target("pc-1.1")
    assert page.xpath(f"//textarea[@name='lines-{first_pc.id}']/text()") == [first_pc.text]
    knowledge = next(t for t in s.targets if t.anchor.startswith("ke-"))
    assert page.xpath(f"//textarea[@name='lines-{knowledge.id}']/text()") == []
    bank = lxml.html.fromstring(client.get(f"{TEMPLATES}/new?kind=questions").data)
    assert bank.xpath(f"//textarea[@name='lines-{first_pc.id}']/text()") == []
    assert client.get(f"{TEMPLATES}/new?kind=essay").status_code == 404

    # Bad input: no title, no items, a criterion of another unit; nothing is saved.
    empty = client.post(f"{TEMPLATES}/new?kind=observation", data={"title": "", **lines(s)})
    assert "Give the template a title." in empty.text
    nothing = client.post(
        f"{TEMPLATES}/new?kind=observation", data={"title": "Call floor", **lines(s)}
    )
    assert "Add at least one item: a line under a criterion." in nothing.text
    assert count(AssessmentTemplate) == 0

    template = make_template(
        client,
        s,
        "observation",
        "Call floor observation",
        pc_2_1=["Briefs the team on the service standard", "Checks each agent understood"],
        pc_2_2=["Gives feedback after a live call"],
    )
    assert template.updated_by_id == s.assessor.id
    listed = client.get(TEMPLATES).text
    assert "Call floor observation" in listed and "Observation checklist" in listed
    [created] = events("template.created")
    assert created.after["items"][0] == {
        "ref": "2.1",
        "text": "Briefs the team on the service standard",
    }

    admin = make_user("admin")
    login(admin)
    kept = items(template)["Gives feedback after a live call"].id
    edit = f"/templates/{template.id}/edit"
    version = hidden(client, edit, "seen")
    changed = {
        "title": "Call floor observation (team leader)",
        "seen": version,
        **lines(
            s,
            pc_2_1=["Briefs the team on the service standard"],
            pc_2_2=["Gives feedback after a live call", "Asks the agent what they heard"],
        ),
    }
    assert client.post(edit, data=changed).status_code == 302
    now = items(template)
    assert now["Gives feedback after a live call"].id == kept
    assert "Checks each agent understood" not in now
    [change] = events("template.changed")
    assert change.before["title"] == "Call floor observation"
    assert change.after["title"] == "Call floor observation (team leader)"

    # A stale save from another tab: refused in words, what was typed is still in the form.
    stale = client.post(edit, data={**changed, "title": "Older tab", "seen": version})
    assert "Someone else saved this template while you were editing it" in stale.text
    assert 'value="Older tab"' in stale.text
    assert "Asks the agent what they heard" in stale.text
    db.session.refresh(template)
    assert template.title == "Call floor observation (team leader)"
    now_at = lxml.html.fromstring(stale.data).xpath("//input[@name='seen']/@value")
    assert now_at == [str(template.lock_version)]  # saving again keeps the older tab's text


def test_an_observation_checklist_filled_in_is_one_record_for_what_was_seen(
    client, submitted, login
) -> None:
    """Ticked on the spot: a criterion whose lines were all seen is signed off and judged,
    one seen only in part is not; the checklist as ticked is the record, shown once in the pack,
    one audit event per criterion, and a correction keeps what was ticked."""
    s = submitted()
    login(s.assessor)
    template = make_template(
        client,
        s,
        "observation",
        "Call floor observation",
        pc_1_1=["Explains the service standard"],  # not a gap: the learner's plan covers it
        pc_2_1=["Briefs the team", "Checks each agent understood"],
        pc_2_2=["Gives feedback after a live call"],
        pc_2_3=["Coaches a new starter", "Records the coaching"],
    )
    start(client, s)
    review = client.get(review_url(s)).text
    assert f'href="{fill_url(s, template)}"' in review
    page = lxml.html.fromstring(client.get(fill_url(s, template)).data)
    shown = page.xpath("//input[starts-with(@name, 'seen-')]/following-sibling::label/text()")
    assert "Explains the service standard" in shown  # still a gap until decided
    by_text = items(template)
    opened = hidden(client, fill_url(s, template), "version")

    def ticked(*texts: str, **notes: str) -> dict[str, str]:
        data = {"version": opened, "held_on": "2026-11-20", "judge": "y"}
        for text in texts:
            data[f"seen-{by_text[text].id}"] = "y"
        for text, note in notes.items():
            data[f"note-{by_text[text.replace('_', ' ')].id}"] = note
        return data

    # Nothing ticked: refused, what was typed is kept.
    refused = client.post(
        fill_url(s, template), data={**ticked(), "notes": "Floor was busy, 14 agents."}
    )
    assert refused.status_code == 400
    assert "Nothing on the checklist is ticked: tick what you saw the learner do." in refused.text
    assert "Floor was busy, 14 agents." in refused.text
    assert count(GapSignoff) == 0

    saved = client.post(
        fill_url(s, template),
        data={
            **ticked(
                "Briefs the team",
                "Checks each agent understood",
                "Gives feedback after a live call",
                "Coaches a new starter",
            ),
            f"note-{by_text['Gives feedback after a live call'].id}": "Used the call recording.",
            "notes": "Floor was busy, 14 agents.",
        },
        follow_redirects=True,
    )
    assert "Direct observation recorded: 2.1, 2.2 signed off and judged satisfactory." in (
        saved.text
    )
    assert "Not signed off, as only some of their items were seen: 2.3." in saved.text
    signoffs = db.session.scalars(select(GapSignoff).order_by(GapSignoff.id)).all()
    assert [x.target.ref for x in signoffs] == ["2.1", "2.2"]
    assert signoffs[0].record_key == signoffs[1].record_key
    assert signoffs[0].checklist == {
        "title": "Call floor observation",
        "items": [  # the whole checklist as used, what was not seen included
            {"ref": "1.1", "item": "Explains the service standard", "seen": False, "note": ""},
            {"ref": "2.1", "item": "Briefs the team", "seen": True, "note": ""},
            {"ref": "2.1", "item": "Checks each agent understood", "seen": True, "note": ""},
            {
                "ref": "2.2",
                "item": "Gives feedback after a live call",
                "seen": True,
                "note": "Used the call recording.",
            },
            {"ref": "2.3", "item": "Coaches a new starter", "seen": True, "note": ""},
            {"ref": "2.3", "item": "Records the coaching", "seen": False, "note": ""},
        ],
    }
    judged = db.session.scalars(select(Judgement).order_by(Judgement.id)).all()
    assert [(j.target.ref, j.finding) for j in judged] == [
        ("2.1", Finding.SATISFACTORY),
        ("2.2", Finding.SATISFACTORY),
    ]
    logged = events("gap.signed_off")
    assert [e.subject for e in logged] == ["target:2.1", "target:2.2"]
    assert logged[0].after["checklist"]["items"][3]["note"] == "Used the call recording."
    # The criteria it signed off are no longer offered.
    again = lxml.html.fromstring(client.get(fill_url(s, template)).data)
    assert "Briefs the team" not in again.xpath("//label/text()")
    assert "Coaches a new starter" in again.xpath("//label/text()")
    assert "Used the call recording." in client.get(review_url(s)).text

    competent(client, s)
    pack = docx.Document(
        io.BytesIO(client.post(f"/enrolments/{s.enrolment.id}/evidence-pack.docx").data)
    )
    checklist_tables = [
        t
        for t in pack.tables
        if [c.text for c in t.rows[0].cells][:2] == ["Criterion", "Watched for"]
    ]
    assert len(checklist_tables) == 1  # one record, shown once
    assert [c.text for c in checklist_tables[0].rows[1].cells][2] == "No"  # 1.1, not seen
    assert [c.text for c in checklist_tables[0].rows[4].cells] == [
        "2.2",
        "Gives feedback after a live call",
        "Yes",
        "Used the call recording.",
    ]

    correct_url = f"{review_url(s)}/gaps/{signoffs[1].target_id}/correct"
    assert "Used the call recording." in client.get(correct_url).text
    corrected = client.post(
        correct_url,
        data={
            "method": "direct_observation",
            "held_on": "2026-11-19",
            "notes": "Floor was busy, 14 agents.",
            "reason": "It was the 19th.",
        },
        follow_redirects=True,
    )
    assert "is corrected" in corrected.text
    replacements = db.session.scalars(
        select(GapSignoff).where(GapSignoff.replaces_id.is_not(None))
    ).all()
    assert len(replacements) == 2
    assert all(r.checklist == signoffs[0].checklist for r in replacements)
    assert list(compare_with_log(db.session)) == []


def test_a_question_bank_asks_per_criterion_and_records_the_answers(
    client, submitted, login
) -> None:
    """Questions from the bank with the learner's answers: each criterion with an answer is
    signed off by one conversation record; unanswered questions are not recorded."""
    s = submitted()
    login(s.assessor)
    template = make_template(
        client,
        s,
        "questions",
        "Coaching questions",
        pc_2_1=["How do you brief the team on a new standard?"],
        pc_2_2=["What feedback did you give after a poor call?", "How did you follow it up?"],
        pc_2_3=["How do you coach a new starter?"],
    )
    start(client, s)
    by_text = items(template)
    url = fill_url(s, template)
    data = {"version": hidden(client, url, "version"), "held_on": "2026-11-20"}
    nothing = client.post(url, data=data)
    assert nothing.status_code == 400
    assert "No question has an answer" in nothing.text
    client.post(
        url,
        data={
            **data,
            f"note-{by_text['How do you brief the team on a new standard?'].id}": "A huddle.",
            f"note-{by_text['How did you follow it up?'].id}": "A second listen a week later.",
        },
        follow_redirects=True,
    )
    signoffs = db.session.scalars(select(GapSignoff).order_by(GapSignoff.id)).all()
    assert [x.target.ref for x in signoffs] == ["2.1", "2.2"]
    assert signoffs[0].questions == [
        {"question": "How do you brief the team on a new standard?", "answer": "A huddle."},
        {"question": "How did you follow it up?", "answer": "A second listen a week later."},
    ]
    assert signoffs[0].method.value == "competency_conversation"
    assert signoffs[0].checklist is None
    assert count(Judgement) == 0  # the judge box was left unticked


def test_a_template_refuses_another_unit_a_stale_page_and_an_archived_one(
    client, submitted, login
) -> None:
    """A template of another unit, one changed while it was being filled in, and an archived
    one: each refused in words, nothing saved, what was entered kept."""
    s = submitted()
    other = submitted(unit="BSBCUS501")
    login(s.assessor)
    template = make_template(
        client,
        s,
        "observation",
        "Call floor",
        pc_2_1=["Briefs the team"],
        pc_2_2=["Gives feedback"],
    )
    foreign_release = db.session.get(UnitRelease, other.enrolment.unit_release_id)
    foreign_target = db.session.scalar(
        select(Target).where(
            Target.unit_release_id == foreign_release.id, Target.is_group.is_(False)
        )
    )
    # Lines on another unit's criteria are refused.
    smuggled = client.post(
        f"{TEMPLATES}/new?kind=observation",
        data={"title": "Smuggled", **lines(s, pc_2_1=["Fine"]), f"lines-{foreign_target.id}": "No"},
    )
    assert smuggled.status_code == 302  # only this unit's boxes are read
    smuggled_template = db.session.scalar(
        select(AssessmentTemplate).where(AssessmentTemplate.title == "Smuggled")
    )
    assert [i.target_id for i in items(smuggled_template).values()] == [s.target("pc-2.1").id]

    start(client, s)
    login(other.assessor)
    client.post(f"{review_url(other)}/start")
    wrong = client.post(
        fill_url(other, template),
        data={"version": template.lock_version, "held_on": "2026-11-20"},
        follow_redirects=True,
    )
    assert (
        "“Call floor” is for TLII5018 release 1; this portfolio is for BSBCUS501 release 1. "
        "Use one of its own unit's templates." in html.unescape(wrong.text)
    )
    assert count(GapSignoff) == 0

    login(s.assessor)
    by_text = items(template)
    opened_at = hidden(client, fill_url(s, template), "version")
    client.post(
        f"/templates/{template.id}/edit",
        data={
            "title": "Call floor",
            "seen": hidden(client, f"/templates/{template.id}/edit", "seen"),
            **lines(
                s, pc_2_1=["Briefs the team"], pc_2_2=["Gives feedback", "Asks what they heard"]
            ),
        },
    )
    stale = client.post(
        fill_url(s, template),
        data={
            "version": opened_at,
            "held_on": "2026-11-20",
            f"seen-{by_text['Briefs the team'].id}": "y",
            f"note-{by_text['Briefs the team'].id}": "Whiteboard huddle at 9.",
        },
    )
    assert stale.status_code == 400
    assert "This template was changed while you were filling it in" in stale.text
    page = lxml.html.fromstring(stale.data)
    assert page.xpath(f"//input[@name='seen-{by_text['Briefs the team'].id}']/@checked")
    assert "Whiteboard huddle at 9." in stale.text
    assert "Asks what they heard" in stale.text
    assert count(GapSignoff) == 0
    # The page now carries the template as it stands: saved again, the record is made.
    [form] = page.xpath("//form[@enctype='multipart/form-data']")
    again = {i.name: i.value for i in form.inputs if i.name and i.value is not None}
    again.update({f"seen-{by_text['Briefs the team'].id}": "y", "held_on": "2026-11-20"})
    resaved = client.post(fill_url(s, template), data=again)
    assert resaved.status_code == 302
    assert [x.target.ref for x in db.session.scalars(select(GapSignoff))] == ["2.1"]

    db.session.refresh(template)
    client.post(f"/templates/{template.id}/archive", data={"seen": template.lock_version})
    assert "Call floor" not in client.get(review_url(s)).text.split('id="templates"')[1][:2000]
    archived = client.get(fill_url(s, template), follow_redirects=True)
    assert "“Call floor” is archived: it can no longer be used or changed." in archived.text
    assert re.search(r"Call floor", client.get(TEMPLATES).text) is None
