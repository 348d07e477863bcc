"""Cohorts: a named group of learners, added by pasting a column of emails or student IDs, and
enrolled into units with an assessor in one action."""

from __future__ import annotations

from sqlalchemy import func, select

from portfolio.cohorts import services as cohorts
from portfolio.extensions import db
from portfolio.models import AuditEvent, Cohort, CohortMember, Enrolment


def enrolments() -> int:
    return db.session.scalar(select(func.count()).select_from(Enrolment))


def test_an_admin_enrols_a_whole_cohort_in_two_units_with_an_assessor(
    client, make_user, login, synced
) -> None:
    login(make_user("admin"))
    assessor = make_user("assessor", name="Ash Assessor")
    learners = [
        make_user("learner", name=f"Learner {n}", email=f"l{n}@example.org", student_id=f"S{n}")
        for n in range(1, 6)
    ]
    page = client.post(
        "/admin/cohorts",
        data={"name": "Intake  February 2027", "description": "Cert IV"},
        follow_redirects=True,
    )
    assert "Created the cohort Intake February 2027. Add its learners." in page.text
    cohort = db.session.scalar(select(Cohort))
    # A column pasted from a spreadsheet: emails and student IDs, one a line, in any case.
    pasted = "L1@Example.org\nS2\r\nl3@example.org, S4\n\nl5@example.org\nS2\n"
    page = client.post(
        f"/admin/cohorts/{cohort.id}/members", data={"a-members": pasted}, follow_redirects=True
    )
    assert "Added 5 learners to Intake February 2027." in page.text
    assert "5 learners" in page.text
    # One of them is already in BSBCUS501: left as they are, and said so.
    client.post(
        "/admin/enrolments",
        data={"learner": "S3", "unit": "BSBCUS501", "assessor": 0},
    )
    page = client.post(
        f"/admin/cohorts/{cohort.id}/enrol",
        data={"e-units": ["TLII5018", "BSBCUS501"], "e-assessor": assessor.id},
    )
    assert "Enrolled 9 times" in page.text
    assert "Learner 3, BSBCUS501: already enrolled" in page.text
    mine = db.session.scalars(select(Enrolment).where(Enrolment.assessor_id == assessor.id)).all()
    assert len(mine) == 9
    assert {e.learner_id for e in mine} == {u.id for u in learners}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "cohort.enrolled"))
    assert event.after == {
        "units": ["TLII5018", "BSBCUS501"],
        "assessor_id": assessor.id,
        "enrolled": 9,
        "skipped": 1,
    }
    # The enrolments list filtered to the cohort, then to one unit.
    listed = client.get(f"/admin/enrolments?cohort={cohort.id}&unit=TLII5018")
    assert "5 enrolments match" in listed.text
    # Enrolling again changes nothing and says why for each.
    again = client.post(
        f"/admin/cohorts/{cohort.id}/enrol",
        data={"e-units": ["TLII5018"], "e-assessor": assessor.id},
    )
    assert "Enrolled 0 times" in again.text and enrolments() == 10


def test_a_paste_with_an_unknown_learner_adds_nobody(client, make_user, login, synced) -> None:
    login(make_user("admin"))
    make_user("learner", email="known@example.org")
    staff = make_user("assessor", name="Sue Staff", email="sue@example.org")
    client.post("/admin/cohorts", data={"name": "Night class"})
    cohort = db.session.scalar(select(Cohort))
    page = client.post(
        f"/admin/cohorts/{cohort.id}/members",
        data={"a-members": "known@example.org\nS404\nghost@example.org"},
    )
    assert (
        "No account has the email or student ID S404, ghost@example.org; nobody was added."
        in page.text
    )
    page = client.post(f"/admin/cohorts/{cohort.id}/members", data={"a-members": f"{staff.email}"})
    assert "Not learners: Sue Staff; nobody was added." in page.text
    assert db.session.scalar(select(func.count()).select_from(CohortMember)) == 0
    empty = client.post(
        f"/admin/cohorts/{cohort.id}/enrol", data={"e-units": ["TLII5018"], "e-assessor": 0}
    )
    assert "Night class has no learners yet: add them first." in empty.text
    twice = client.post("/admin/cohorts", data={"name": "night CLASS"})
    assert "There is already a cohort called night CLASS." in twice.text


def test_removing_a_learner_keeps_their_enrolments(client, make_user, login, synced) -> None:
    login(make_user("admin"))
    learner = make_user("learner", name="Rae Removed", email="rae@example.org")
    client.post("/admin/cohorts", data={"name": "Team A"})
    cohort = db.session.scalar(select(Cohort))
    client.post(f"/admin/cohorts/{cohort.id}/members", data={"a-members": "rae@example.org"})
    client.post(
        f"/admin/cohorts/{cohort.id}/enrol", data={"e-units": ["TLII5018"], "e-assessor": 0}
    )
    page = client.post(
        f"/admin/cohorts/{cohort.id}/members/{learner.id}/remove", follow_redirects=True
    )
    assert "Rae Removed is no longer in Team A; their enrolments stay." in page.text
    assert enrolments() == 1


def test_the_cohort_page_runs_the_same_queries_for_5_or_60_learners(
    client, make_user, login, synced, count_queries
) -> None:
    login(make_user("admin"))
    client.post("/admin/cohorts", data={"name": "Big"})
    cohort = db.session.scalar(select(Cohort))

    def grow(n: int) -> int:
        emails = [make_user("learner").email for _ in range(n)]
        client.post(f"/admin/cohorts/{cohort.id}/members", data={"a-members": "\n".join(emails)})
        with count_queries() as counter:
            assert client.get(f"/admin/cohorts/{cohort.id}").status_code == 200
        return counter.count

    assert grow(5) == grow(55)


def test_the_cli_does_what_the_pages_do(runner, make_user, synced) -> None:
    make_user("learner", email="a@example.org", student_id="S1")
    make_user("learner", email="b@example.org")
    make_user("assessor", email="ash@example.org")
    assert runner.invoke(args=["cohorts", "create", "Evening"]).exit_code == 0
    added = runner.invoke(args=["cohorts", "add", "Evening", "S1", "b@example.org"])
    assert added.output.strip() == "added 2 learners to Evening"
    enrolled = runner.invoke(
        args=["cohorts", "enrol", "Evening", "TLII5018", "--assessor", "ash@example.org"]
    )
    assert enrolled.output.strip() == "enrolled 2; left 0 as they were"
    unknown = runner.invoke(args=["cohorts", "enrol", "Morning", "TLII5018"])
    assert unknown.exit_code == 1 and "There is no cohort called Morning." in unknown.output


def test_enrolling_a_cohort_costs_each_enrolment_only_its_row_and_audit_event(
    make_user, synced, count_queries
) -> None:
    """The checks run once for the cohort, not once per learner: each more learner adds the
    same few statements (the enrolment's insert and its audit event's)."""
    admin = make_user("admin")

    def enrol_members(n: int, name: str) -> int:
        cohort = cohorts.create_cohort(db.session, actor=admin, name=name, description="")
        learners = [make_user("learner") for _ in range(n)]
        cohorts.add_members(
            db.session, actor=admin, cohort=cohort, keys=[u.email for u in learners]
        )
        db.session.commit()
        with count_queries() as counter:
            done = cohorts.enrol_cohort(
                db.session, actor=admin, cohort=cohort, unit_codes=["TLII5018"], assessor=None
            )
        db.session.commit()
        assert len(done.enrolled) == n
        return counter.count

    few, many = enrol_members(3, "Few"), enrol_members(13, "Many")
    # An audit event is five statements (take the next number, read it, insert, move the
    # head, flush); the enrolment's insert is one more.
    assert (many - few) / 10 <= 6, (few, many)
