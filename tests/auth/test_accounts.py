"""Accounts over their life: the password policy, changing a password, a password someone
else set, an admin correcting an account, the USI's check character."""

from __future__ import annotations

import itertools

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portfolio.auth import passwords
from portfolio.auth.services import USI_ALPHABET, usi_check_character
from portfolio.extensions import db
from portfolio.models import AuditEvent, Role, User
from tests.conftest import PASSWORD

NEW = "violet tram 4 harbour"


def last_event(action: str) -> AuditEvent:
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq.desc())
    ).first()


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("a", "Use at least 12 characters (this one has 1)."),
        ("password1234", "one of the most common passwords"),
        ("Password1234", "one of the most common passwords"),
        ("aaaaaaaaaaaaaa", "Repeats like"),
        ("123456789012", "Choose something less predictable"),
        ("qwertyuiopasdf", "Choose something less predictable"),
        ("jane.citizen2026", "Choose something less predictable"),
    ],
)
def test_the_policy_refuses_short_common_and_guessable_passwords(password, reason) -> None:
    """NIST 800-63B: at least 12 characters, not a common password, not guessable from the
    person's own name; no rule about kinds of characters."""
    found = passwords.problem(password, known=("Jane Citizen", "jane.citizen@example.org"))
    assert found is not None and reason in found


@pytest.mark.parametrize(
    "password",
    [NEW, "all lower case words here", "ŝtrange ûnicode pässphrase", (NEW + " and ") * 7 + "x"],
)
def test_the_policy_accepts_long_passphrases_of_any_characters(password) -> None:
    assert passwords.problem(password) is None


def test_the_policy_refuses_a_paste_gone_wrong() -> None:
    assert passwords.problem(NEW * 20) == "Use at most 200 characters."


def test_the_common_password_list_is_at_least_ten_thousand_long() -> None:
    common = passwords.common_passwords()
    assert len(common) >= 10_000 and "iloveyou" in common and "dragon" in common


def test_the_cli_refuses_a_weak_password_and_creates_nothing(runner) -> None:
    """`flask users create --password a` used to make an account with the password "a"."""
    before = db.session.scalar(select(func.count()).select_from(User))
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--name",
            "A",
            "--email",
            "a@example.org",
            "--role",
            "admin",
            "--password",
            "a",
        ]
    )
    assert result.exit_code == 1
    assert "Use at least 12 characters (this one has 1)." in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == before


def test_changing_a_password_needs_the_current_one_and_ends_other_sessions(
    app, client: FlaskClient, make_user, login
) -> None:
    user = make_user("learner", email="kim@example.org")
    other = app.test_client()
    other.post("/login", data={"email": user.email, "password": PASSWORD})
    assert other.get("/dashboard").status_code == 200
    login(user)
    wrong = client.post(
        "/account/password",
        data={"current_password": "not it at all", "new_password": NEW, "confirm": NEW},
    )
    assert "That is not your current password." in wrong.text
    weak = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": "kim12345", "confirm": "kim12345"},
    )
    assert "Use at least 12 characters" in weak.text
    differ = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": NEW, "confirm": NEW + "!"},
    )
    assert "The two new passwords differ." in differ.text
    page = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": NEW, "confirm": NEW},
        follow_redirects=True,
    )
    assert "Your password is changed. Any other session of yours has ended." in page.text
    assert client.get("/dashboard").status_code == 200  # this session goes on
    assert "/login" in other.get("/dashboard").location  # the other one has ended
    client.post("/logout")
    assert (
        client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 200
    )
    assert client.post("/login", data={"email": user.email, "password": NEW}).status_code == 302
    event = last_event("account.password-changed")
    assert event.subject == f"user:{user.id}" and "violet" not in str(event.after)


def test_a_password_an_admin_set_must_be_changed_at_the_first_login(
    client: FlaskClient, make_user, login
) -> None:
    """Every page leads to the change-password page until the person has chosen their own."""
    login(make_user("admin"))
    client.post(
        "/admin/users/new",
        data={
            "name": "Tess Temp",
            "email": "tess@example.org",
            "roles": ["learner"],
            "password": "handed over on paper",
        },
    )
    client.post("/logout")
    response = client.post(
        "/login", data={"email": "tess@example.org", "password": "handed over on paper"}
    )
    assert response.status_code == 302
    page = client.get("/dashboard", follow_redirects=True)
    assert page.request.path == "/account/password"
    assert "Your password was set for you: choose your own to go on." in page.text
    client.post(
        "/account/password",
        data={"current_password": "handed over on paper", "new_password": NEW, "confirm": NEW},
    )
    assert client.get("/dashboard").status_code == 200
    tess = db.session.scalar(select(User).where(User.email == "tess@example.org"))
    assert tess.must_change_password is False


def test_an_admin_corrects_an_account_and_the_log_keeps_before_and_after(
    client: FlaskClient, make_user, login
) -> None:
    admin = make_user("admin")
    learner = make_user("learner", name="Jon Smyth", email="jon@example.org", student_id="S7")
    login(admin)
    page = client.post(
        f"/admin/users/{learner.id}",
        data={
            "name": "Jon Smith",
            "email": "Jon.Smith@Example.org",
            "roles": ["learner", "assessor"],
            "student_id": "S7",
            "usi": "",
        },
        follow_redirects=True,
    )
    assert "Saved Jon Smith&#39;s account." in page.text
    event = last_event("user.updated")
    assert (event.actor_id, event.actor_role, event.subject) == (
        admin.id,
        "admin",
        f"user:{learner.id}",
    )
    assert event.before == {
        "name": "Jon Smyth",
        "email": "jon@example.org",
        "roles": ["learner"],
    }
    assert event.after == {
        "name": "Jon Smith",
        "email": "jon.smith@example.org",
        "roles": ["assessor", "learner"],
    }
    history = client.get(f"/admin/audit?subject=user:{learner.id}")
    assert "Events about the account of" in history.text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "taken@example.org", "taken@example.org is the email of another account."),
        ("email", "not an email", "is not an email address."),
        ("email", "ada@example..org", "is not an email address."),
        ("email", "ada@example.org.", "is not an email address."),
        ("student_id", "S-TAKEN", "Student ID S-TAKEN belongs to another learner."),
        ("usi", "BNGH7C75FO", "BNGH7C75FO is not a USI"),
        ("name", " ", "This field is required."),
    ],
)
def test_a_wrong_correction_is_refused_at_its_field_and_changes_nothing(
    client: FlaskClient, make_user, login, field, value, message
) -> None:
    login(make_user("admin"))
    make_user("learner", email="taken@example.org", student_id="S-TAKEN")
    learner = make_user("learner", name="Ada Lovelace", email="ada@example.org")
    data = {"name": "Ada Lovelace", "email": "ada@example.org", "roles": ["learner"], field: value}
    page = client.post(f"/admin/users/{learner.id}", data=data)
    assert message in page.text
    db.session.expire_all()
    same = db.session.get(User, learner.id)
    assert (same.name, same.email, same.student_id, same.usi) == (
        "Ada Lovelace",
        "ada@example.org",
        None,
        None,
    )
    assert last_event("user.updated") is None


def test_a_usi_with_a_wrong_check_character_is_refused(client, make_user, login) -> None:
    login(make_user("admin"))
    learner = make_user("learner")
    good = "BNGH7C75F" + usi_check_character("BNGH7C75F")
    wrong = good[:9] + next(c for c in USI_ALPHABET if c != good[9])
    page = client.post(
        f"/admin/users/{learner.id}",
        data={"name": learner.name, "email": learner.email, "roles": ["learner"], "usi": wrong},
    )
    assert f"{wrong} is not a valid USI: its last character does not match" in page.text
    page = client.post(
        f"/admin/users/{learner.id}",
        data={"name": learner.name, "email": learner.email, "roles": ["learner"], "usi": good},
        follow_redirects=True,
    )
    assert "Saved" in page.text and db.session.get(User, learner.id).usi == good


def test_the_usi_check_character_catches_every_single_mistyped_character() -> None:
    """Luhn mod N over the USI's 32 characters: exactly one last character fits any nine,
    and changing any one character of a valid USI makes it invalid."""
    for first_nine in ("BNGH7C75F", "222222222", "ZZZZZZZZZ", "3X9KQ2M4T"):
        usi = first_nine + usi_check_character(first_nine)
        fitting = [c for c in USI_ALPHABET if usi_check_character(first_nine) == c]
        assert len(fitting) == 1
        for position, other in itertools.product(range(9), USI_ALPHABET):
            if other != usi[position]:
                changed = usi[:position] + other + usi[position + 1 : 9]
                assert usi_check_character(changed) != usi[9], (usi, position, other)


def test_an_admin_cannot_take_their_own_admin_role(client, make_user, login) -> None:
    admin = make_user("admin")
    login(admin)
    page = client.post(
        f"/admin/users/{admin.id}",
        data={"name": admin.name, "email": admin.email, "roles": ["assessor"]},
    )
    assert "You cannot take the RTO admin role from your own account." in page.text
    assert db.session.get(User, admin.id).roles == {Role.ADMIN}


def test_the_account_list_is_found_by_role_and_status(client, make_user, login) -> None:
    login(make_user("admin", name="Ada Admin"))
    make_user("assessor", name="Ash Assessor")
    make_user("learner", name="Lee Learner")
    client.post(
        "/admin/users/new",
        data={"name": "Nell New", "email": "nell@example.org", "roles": ["learner"]},
    )
    assessors = client.get("/admin/users?role=assessor").text
    assert "Ash Assessor" in assessors and "Lee Learner" not in assessors
    waiting = client.get("/admin/users?status=not-set-up").text
    assert "Nell New" in waiting and "Lee Learner" not in waiting and "1 account match" in waiting


def test_a_person_chooses_a_daily_digest_on_their_account_page(client, make_user, login) -> None:
    learner = make_user("learner")
    login(learner)
    page = client.get("/account")
    assert learner.email in page.text and "One email a day" in page.text
    client.post("/account", data={"notify": "digest"})
    assert db.session.get(User, learner.id).notify.value == "digest"
    assert last_event("account.notify-changed").after == {"notify": "digest"}
