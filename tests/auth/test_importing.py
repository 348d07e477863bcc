"""Learners from CSV as student management systems and spreadsheets export them: header
spellings, a byte-order mark, given and family names; and files that must create nothing."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from portfolio.auth.importing import MAX_ROWS, read_learners
from portfolio.extensions import db
from portfolio.models import AuditEvent, User


def users() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


@pytest.mark.parametrize(
    "header",
    [
        "name,email,student_id,usi",
        "Name,Email,Student ID,USI",
        "NAME,E-mail,StudentID,Unique Student Identifier",
        "Full name,Email address,Student Number,usi",
        " Name , Email , student-id , USI ",
    ],
)
def test_common_header_spellings_are_read(app, header) -> None:
    plan = read_learners(db.session, f"{header}\nAlex Nguyen,alex@example.org,S1,\n".encode())
    assert plan.problems == []
    (row,) = plan.rows
    assert (row.name, row.email, row.student_id, row.usi) == (
        "Alex Nguyen",
        "alex@example.org",
        "S1",
        None,
    )


def test_given_and_family_names_make_the_name_and_a_bom_is_ignored(app) -> None:
    data = "Given name,Family name,Email\nNguyễn,Văn An,an@example.org\n".encode("utf-8-sig")
    plan = read_learners(db.session, data)
    assert plan.problems == [] and plan.rows[0].name == "Nguyễn Văn An"
    assert plan.columns == {
        "Given name": "given_name",
        "Family name": "family_name",
        "Email": "email",
    }


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            "Name,Email\n".encode("cp1252") + "Zoë,zoe@example.org\n".encode("cp1252"),
            "is not UTF-8",
        ),
        (b'Name,Email\n=HYPERLINK("http://x"),h@example.org\n', "starts with '='"),
        (b"Name,Email\n@SUM(1+1),s@example.org\n", "starts with '@'"),
        (b"Name,Email\nA,a@example.org,extra\n", "has more values than columns"),
        (b"", "is empty: it has no header row"),
        (b"Name,Email\n", "has no learners below the header"),
        (b"Name,Email,Email\nA,a@example.org,b@example.org\n", "more than one column for email"),
    ],
)
def test_a_file_that_cannot_be_trusted_creates_nothing_and_says_why(
    client, make_user, login, data, expected
) -> None:
    login(make_user("admin"))
    before = users()
    page = client.post(
        "/admin/users/import",
        data={"file": (io.BytesIO(data), "learners.csv")},
        content_type="multipart/form-data",
    )
    assert "Nothing was imported" in page.text
    assert expected in page.text.replace("&#39;", "'")
    assert users() == before


def test_a_file_of_fifty_thousand_learners_is_refused_whole(app) -> None:
    """Past MAX_ROWS the file is refused before any row is checked against the database."""
    rows = "".join(f"Learner {n},l{n}@example.org,S{n},\n" for n in range(50_000))
    plan = read_learners(db.session, ("Name,Email,Student ID,USI\n" + rows).encode())
    assert plan.rows == []
    (problem,) = plan.problems
    assert f"has more than {MAX_ROWS:,} learners" in problem.message
    assert problem.line == MAX_ROWS + 2


def test_a_file_far_too_large_is_refused_unread(runner, tmp_path) -> None:
    """A 5 MB file (a workbook saved under the wrong name, an export of everything) is
    refused before it is decoded; the command, like the page, reads no more than the limit."""
    big = tmp_path / "everything.csv"
    big.write_bytes(b"Name,Email\n" + b"x" * (5 * 1024 * 1024))
    result = runner.invoke(args=["users", "import", str(big)])
    assert result.exit_code == 1
    assert "is larger than 4 MB, far more than 5,000 learners take" in result.output
    assert users() == 0


def test_confirming_a_file_another_admin_overtook_creates_nothing(client, make_user, login) -> None:
    """Between the preview and the confirming, someone made an account with one of the emails:
    the confirming is checked again and refused whole."""
    login(make_user("admin"))
    make_user("learner", email="alex@example.org")
    page = client.post(
        "/admin/users/import",
        data={"data": "Name,Email\nAlex Nguyen,alex@example.org\nSam Patel,sam@example.org\n"},
    )
    assert "There is already an account for alex@example.org." in page.text
    assert db.session.scalar(select(User).where(User.email == "sam@example.org")) is None


def test_set_up_links_download_for_the_imported_accounts_only(client, make_user, login) -> None:
    """New links for accounts not yet set up, as CSV; an account with a password gets none,
    and each download voids the links before it."""
    login(make_user("admin"))
    set_up = make_user("learner", email="done@example.org")
    client.post(
        "/admin/users/import", data={"data": "Name,Email\n=bad,\nNew One,new@example.org\n"}
    )
    assert db.session.scalar(select(User).where(User.email == "new@example.org")) is None
    client.post(
        "/admin/users/import", data={"data": "Name,Email,Student ID\nNew One,new@example.org,-7\n"}
    )
    assert db.session.scalar(select(User).where(User.email == "new@example.org")) is None
    client.post(
        "/admin/users/import", data={"data": "Name,Email,Student ID\nNew One,new@example.org,S7\n"}
    )
    new = db.session.scalar(select(User).where(User.email == "new@example.org"))
    response = client.post(
        "/admin/users/setup-links.csv", data={"confirm": "y", "user": [new.id, set_up.id]}
    )
    assert response.headers["Content-Disposition"] == 'attachment; filename="setup-links.csv"'
    lines = response.text.lstrip("\ufeff").splitlines()
    assert lines[0] == "Name,Email,Student ID,Set-up link,Link works until"
    assert len(lines) == 2 and lines[1].startswith("New One,new@example.org,S7,http://")
    first = lines[1].split(",")[3]
    again = client.post("/admin/users/setup-links.csv", data={"confirm": "y", "user": [new.id]})
    client.post("/logout")
    assert client.get(first.split("5000", 1)[1]).status_code == 410
    second = again.text.splitlines()[1].split(",")[3]
    assert client.get(second.split("5000", 1)[1]).status_code == 200
    issued = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "account.setup-link-issued")
    ).all()
    assert [e.subject for e in issued] == [f"user:{new.id}"] * 2
