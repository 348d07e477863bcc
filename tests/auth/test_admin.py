"""Admin pages and commands: accounts, CSV import of learners, enrolments, assessors."""

from __future__ import annotations

import html
import io
import re

from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from portfolio.auth.services import find_user
from portfolio.extensions import db
from portfolio.models import Enrolment, Role, User


def user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def test_admin_creates_an_account_with_several_roles(client, make_user, login) -> None:
    """A new account gets its roles and, with mail off, a set-up link shown once; it has no
    password until its holder chooses one."""
    login(make_user("admin"))
    response = client.post(
        "/admin/users/new",
        data={"name": "Pat Both", "email": "pat@example.org", "roles": ["assessor", "learner"]},
        follow_redirects=True,
    )
    assert "Created Pat Both" in response.text
    assert "http://127.0.0.1:5000/account/setup/" in response.text
    pat = db.session.scalar(select(User).where(User.email == "pat@example.org"))
    assert pat.roles == {Role.ASSESSOR, Role.LEARNER}
    assert pat.password_hash is None


def test_duplicate_email_is_refused_at_the_field(client, make_user, login) -> None:
    """Creating a second account for one email explains which field is wrong."""
    login(make_user("admin", email="admin@example.org"))
    page = client.post(
        "/admin/users/new",
        data={"name": "Again", "email": "ADMIN@example.org", "roles": ["learner"]},
    )
    assert "There is already an account for admin@example.org." in page.text


def test_admin_deactivates_and_reactivates(client, make_user, login) -> None:
    """Deactivation keeps the account (nothing is deleted) and can be undone."""
    login(make_user("admin"))
    learner = make_user("learner", name="Dee Active")
    page = client.post(f"/admin/users/{learner.id}/active", follow_redirects=True)
    assert "Dee Active&#39;s account is deactivated." in page.text
    assert db.session.get(User, learner.id).active is False
    client.post(f"/admin/users/{learner.id}/active")
    db.session.expire_all()
    assert db.session.get(User, learner.id).active is True


def test_admin_cannot_deactivate_themselves(client, make_user, login) -> None:
    """Locking out the last admin by accident is refused."""
    admin = make_user("admin")
    login(admin)
    page = client.post(f"/admin/users/{admin.id}/active", follow_redirects=True)
    assert "You cannot deactivate your own account." in page.text


GOOD_CSV = (
    b"name,email,student_id,usi\n"
    b"Alex Nguyen,alex@example.org,S1001,\n"
    b"Sam Patel,sam@example.org,S1002,\n"
)


def upload_csv(client: FlaskClient, data: bytes):
    return client.post(
        "/admin/users/import",
        data={"file": (io.BytesIO(data), "learners.csv")},
        content_type="multipart/form-data",
    )


def test_csv_import_shows_the_learners_then_creates_them_on_confirming(
    client, make_user, login
) -> None:
    """A clean file is shown first and creates nothing; confirming creates every learner,
    without passwords, and offers their set-up links."""
    login(make_user("admin"))
    before = user_count()
    page = upload_csv(client, GOOD_CSV)
    assert "2 learners to create: check, then confirm" in page.text
    assert "alex@example.org" in page.text and user_count() == before
    data = re.search(r'name="data" type="hidden" value="([^"]*)"', page.text)
    assert data is not None
    page = client.post("/admin/users/import", data={"data": html.unescape(data.group(1))})
    assert "Imported 2 learners" in page.text and "Download set-up links (CSV)" in page.text
    alex = db.session.scalar(select(User).where(User.email == "alex@example.org"))
    assert alex.student_id == "S1001" and alex.roles == {Role.LEARNER}
    assert alex.password_hash is None


def test_csv_with_bad_rows_imports_nothing_and_names_each_line(client, make_user, login):
    """Every bad row is reported with its line; not one learner is created."""
    login(make_user("admin"))
    make_user("learner", email="taken@example.org")
    before = user_count()
    data = (
        b"name,email,student_id,usi\n"
        b"Good One,good@example.org,S1,\n"
        b",noname@example.org,S2,\n"
        b"Bad Email,not-an-email,S3,\n"
        b"Taken,taken@example.org,S4,\n"
        b"Dup,good@example.org,S1,\n"
        b"Bad USI,usi@example.org,S6,ABC\n"
    )
    page = upload_csv(client, data)
    assert "Nothing was imported" in page.text
    for expected in (
        "Line 3, name: is empty",
        "Line 4, email: &#39;not-an-email&#39; is not an email address.",
        "Line 5, email: There is already an account for taken@example.org.",
        "Line 6, email: good@example.org is also on line 2",
        "Line 6, student_id: S1 is also on line 2",
        "Line 7, usi: ABC is not a USI: a USI is 10 characters",
    ):
        assert expected in page.text
    assert user_count() == before


def test_csv_with_wrong_header_says_what_columns_are_wanted(client, make_user, login) -> None:
    """A file from another system gets a message naming the expected columns."""
    login(make_user("admin"))
    page = upload_csv(client, b"first,last,phone\nA,B,0400\n")
    assert "missing Email; columns not known: phone." in page.text
    assert "The columns are Name (or Given name and Family name), Email" in page.text


def test_csv_with_a_huge_value_is_refused_with_its_line(client, make_user, login) -> None:
    """A value past the CSV reader's 128 KB limit was a server error; now the line is named."""
    login(make_user("admin"))
    before = user_count()
    data = GOOD_CSV + b"Long One," + b"x" * 140_000 + b"@example.org,S9,\n"
    page = upload_csv(client, data)
    assert page.status_code == 200
    assert "Line 4, file: has a value longer than 131,072 characters" in page.text
    assert user_count() == before


def test_import_refuses_a_non_csv_upload(client, make_user, login) -> None:
    """Choosing a spreadsheet or a PDF instead of a CSV says so."""
    login(make_user("admin"))
    page = client.post(
        "/admin/users/import",
        data={"file": (io.BytesIO(b"%PDF-1.4"), "learners.pdf")},
        content_type="multipart/form-data",
    )
    assert "Choose a .csv file." in page.text


def test_admin_enrols_pinned_to_current_release_and_assigns(client, make_user, login, synced):
    """An enrolment records the release it is assessed against, and gets an assessor."""
    login(make_user("admin"))
    learner = make_user("learner", student_id="S42")
    assessor = make_user("assessor", name="Ash Assessor")
    page = client.post(
        "/admin/enrolments",
        data={"learner": "S42", "unit": "TLII5018", "assessor": 0},
        follow_redirects=True,
    )
    assert f"Enrolled {learner.name} in TLII5018 release 1." in page.text
    enrolment = db.session.scalar(select(Enrolment))
    assert enrolment.unit_release.release == 1 and enrolment.assessor is None
    page = client.post(
        f"/admin/enrolments/{enrolment.id}/assessor",
        data={"assessor": assessor.id},
        follow_redirects=True,
    )
    assert "assigned to Ash Assessor" in page.text
    db.session.expire_all()
    assert db.session.get(Enrolment, enrolment.id).assessor_id == assessor.id


def test_enrol_twice_in_one_unit_is_refused(client, make_user, login, make_enrolment) -> None:
    """A learner is enrolled in a unit once; the second attempt says they already are."""
    login(make_user("admin"))
    enrolment = make_enrolment()
    page = client.post(
        "/admin/enrolments",
        data={"learner": enrolment.learner.email, "unit": "TLII5018", "assessor": 0},
    )
    assert "is already enrolled in TLII5018 (release 1)." in page.text


def test_only_assessors_can_be_assigned(client, make_user, login, make_enrolment) -> None:
    """Choosing a learner as assessor is refused; the enrolment keeps its assessor."""
    login(make_user("admin"))
    enrolment = make_enrolment()
    other = make_user("learner")
    page = client.post(
        f"/admin/enrolments/{enrolment.id}/assessor",
        data={"assessor": other.id},
        follow_redirects=True,
    )
    assert "cannot be chosen" in page.text
    assert db.session.get(Enrolment, enrolment.id).assessor_id is None


def test_nobody_is_enrolled_as_their_own_assessor(client, make_user, login, synced) -> None:
    """A trainer who is also studying cannot be made assessor of their own enrolment."""
    login(make_user("admin"))
    both = make_user("learner", "assessor", name="Kim Both", email="kim@example.org")
    page = client.post(
        "/admin/enrolments",
        data={"learner": "kim@example.org", "unit": "TLII5018", "assessor": both.id},
    )
    assert "Nobody assesses their own enrolment." in page.text
    assert db.session.scalar(select(func.count()).select_from(Enrolment)) == 0


def test_cli_does_what_the_pages_do(runner: FlaskCliRunner, synced, tmp_path) -> None:
    """The same actions from the command line call the same services."""
    created = runner.invoke(
        args=[
            "users",
            "create",
            "--name",
            "Ash",
            "--email",
            "ash@example.org",
            "--role",
            "assessor",
        ]
    )
    assert created.exit_code == 0 and "set-up link: ash@example.org\thttp://" in created.output
    csv_file = tmp_path / "learners.csv"
    csv_file.write_bytes(GOOD_CSV)
    imported = runner.invoke(args=["users", "import", str(csv_file)])
    assert "imported 2 learners" in imported.output
    assert imported.output.count("/account/setup/") == 2
    enrolled = runner.invoke(
        args=["enrolments", "add", "alex@example.org", "TLII5018", "--assessor", "ash@example.org"]
    )
    assert enrolled.output.strip() == "enrolled alex@example.org in TLII5018 release 1"
    again = runner.invoke(args=["enrolments", "add", "alex@example.org", "TLII5018"])
    assert again.exit_code == 1 and "already enrolled" in again.output
    rpl = runner.invoke(args=["enrolments", "add", "S1002", "BSBCUS501", "--rpl"])
    assert rpl.output.strip() == "enrolled sam@example.org in BSBCUS501 release 1 (RPL)"
    assigned = runner.invoke(args=["enrolments", "assign", "S1002", "BSBCUS501", "ash@example.org"])
    assert assigned.output.strip() == "ash@example.org assesses sam@example.org in BSBCUS501"
    unknown = runner.invoke(args=["enrolments", "add", "S9999", "TLII5018"])
    assert unknown.exit_code == 1
    assert "No account has the email or student ID S9999." in unknown.output
    deactivated = runner.invoke(args=["users", "deactivate", "ash@example.org"])
    assert deactivated.exit_code == 0 and not find_user(db.session, "ash@example.org").active
    csv_file.write_bytes(b"name,email\n,x@example.org\n")
    bad = runner.invoke(args=["users", "import", str(csv_file)])
    assert bad.exit_code == 1 and "line 2, name: is empty" in bad.output


def test_demo_accounts_on_an_empty_database_only(runner: FlaskCliRunner, synced) -> None:
    """``flask demo accounts`` creates logins once, and later only reprints them."""
    first = runner.invoke(args=["demo", "accounts"])
    assert "Created demo accounts; Sam Learner's TLII5018 is assessed Competent." in first.output
    assert "learner@example.org" in first.output and "learner-demo-pass" in first.output
    count = user_count()
    second = runner.invoke(args=["demo", "accounts"])
    assert "Created" not in second.output and "learner@example.org" in second.output
    assert user_count() == count
    # The assessed demo portfolio is complete: an outcome, and an audit log that verifies.
    from portfolio.audit.log import verify
    from portfolio.models import UnitOutcome

    outcome = db.session.scalar(select(UnitOutcome))
    assert outcome.result.label == "Competent" and outcome.enrolment.learner.name == "Sam Learner"
    assert verify(db.session).ok
