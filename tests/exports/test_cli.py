"""``flask exports``: the same documents as the pages, written to files, each one recorded.

Enrolments are decided through the real services (the fixture is the one of ``test_views``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import docx
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from portfolio.audit.exports import EXPORT_ACTION
from portfolio.clock import today as rto_today
from portfolio.exports.register import COLUMNS
from portfolio.extensions import db
from portfolio.models import (
    AuditEvent,
)
from tests.exports.conftest import matrix_grids

UNIT = "TLII5018"


def export_events() -> list[AuditEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == EXPORT_ACTION).order_by(AuditEvent.seq)
        )
    )


def run(runner, *args: str):
    return runner.invoke(args=["exports", *args])


def files_in(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An empty folder for what the commands write."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def read_zip(path: Path) -> tuple[zipfile.ZipFile, dict]:
    """The archive, after checking every member is listed in its manifest with its hash."""
    archive = zipfile.ZipFile(path)
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


def read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


# --- What the commands write -----------------------------------------------------------------


def test_pack_command(runner, decided, out) -> None:
    enrolment = decided()
    target = out / "pack.docx"
    result = run(runner, "pack", str(enrolment.id), str(target))
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote {target}\n"
    document = docx.Document(target)
    text = "\n".join(p.text for p in document.paragraphs)
    assert UNIT in text
    [event] = export_events()
    assert event.after["kind"] == "pack" and event.after["count"] == 1
    assert event.enrolment_id == enrolment.id
    assert (event.actor_id, event.actor_role) == (None, "system")


def test_matrix_command(runner, decided, make_enrolment, make_user, out) -> None:
    """A column per learner enrolled in the unit; the code in any case."""
    decided(), decided()
    make_enrolment(learner=make_user("learner", name="Zoe Started"), unit=UNIT)
    make_enrolment(learner=make_user("learner", name="Mo Elsewhere"), unit="MEM16003")
    target = out / "matrix.docx"
    result = run(runner, "matrix", UNIT.lower(), str(target))
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote {target}: 3 learners\n"
    [grid] = matrix_grids(docx.Document(target))
    learners = [cell.text.split("\n")[0] for cell in grid.rows[0].cells[1:]]
    assert learners == ["Lee Learner 0", "Lee Learner 1", "Zoe Started"]
    [event] = export_events()
    assert event.after["kind"] == "matrix" and event.after["count"] == 3
    assert event.after["description"] == f"Unit mapping matrix {UNIT}"


def test_matrix_command_by_enrolment_date(runner, decided, out) -> None:
    decided()
    today = rto_today()
    later = out / "later.docx"
    result = run(runner, "matrix", UNIT, str(later), "--enrolled-from", str(today + timedelta(1)))
    assert result.exit_code == 0, result.output
    assert result.output.endswith(": 0 learners\n")
    result = run(runner, "matrix", UNIT, str(out / "today.docx"), "--enrolled-to", str(today))
    assert result.output.endswith(": 1 learners\n")


def test_register_command_csv(runner, decided, out) -> None:
    decided(), decided(unit="MEM16003")
    target = out / "register.csv"
    result = run(runner, "register", str(target))
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote {target}: 2 outcomes\n"
    rows = read_csv(target)
    assert rows[0] == list(COLUMNS)
    body = [dict(zip(COLUMNS, row, strict=True)) for row in rows[1:]]
    assert sorted(r["Unit code"] for r in body) == ["MEM16003", UNIT]
    assert {r["AVETMISS outcome code"] for r in body} == {"20"}
    assert {r["Outcome date"] for r in body} == {rto_today().isoformat()}
    assert b"\r\n" in target.read_bytes()  # RFC 4180 line ends
    [event] = export_events()
    assert event.after["kind"] == "register" and event.after["count"] == 2
    assert event.after["description"] == "Outcomes register: all units, all dates"


def test_register_command_xlsx(runner, decided, out) -> None:
    decided()
    target = out / "register.XLSX"  # the extension in any case
    result = run(runner, "register", str(target))
    assert result.exit_code == 0, result.output
    rows = list(load_workbook(target).active.iter_rows(values_only=True))
    assert rows[0] == COLUMNS
    row = dict(zip(COLUMNS, rows[1], strict=True))
    assert row["Learner"] == "Lee Learner 0"
    assert row["AVETMISS outcome code"] == "20"
    assert row["Outcome date"].date() == rto_today()


def test_register_command_filters(runner, decided, out) -> None:
    decided(), decided(unit="MEM16003")
    today = rto_today()

    def units(*options: str) -> list[str]:
        target = out / "filtered.csv"
        result = run(runner, "register", str(target), *options)
        assert result.exit_code == 0, result.output
        return [row[4] for row in read_csv(target)[1:]]

    assert units("--unit", "mem16003") == ["MEM16003"]
    assert units("--decided-from", str(today), "--decided-to", str(today)) != []
    assert units("--decided-from", str(today + timedelta(days=1))) == []
    events = export_events()
    assert events[0].after["description"] == "Outcomes register: MEM16003, all dates"


def test_bundle_command(runner, decided, out) -> None:
    """A valid ZIP of the unit's decided enrolments whose manifest matches its members."""
    decided()
    decided(unit="MEM16003")  # another unit: left out
    target = out / "bundle.zip"
    result = run(runner, "bundle", str(target), "--unit", UNIT)
    assert result.exit_code == 0, result.output
    size = target.stat().st_size
    assert target.stat().st_mode & 0o777 == 0o600, "personal information: the owner's only"
    assert f"wrote {target}: 1 enrolment, {size} bytes" in result.output
    archive, manifest = read_zip(target)
    assert manifest["enrolments"] == 1
    assert manifest["selection"] == UNIT
    names = set(archive.namelist())
    assert sum(1 for n in names if "/evidence-pack-" in n) == 1
    assert sum(1 for n in names if "/evidence/" in n) == 2
    assert {"outcomes-register.csv", "outcomes-register.xlsx", f"mapping-matrix-{UNIT}.docx"} <= (
        names
    )
    assert files_in(out) == {"bundle.zip"}  # no partial file left beside it
    [event] = export_events()
    assert event.after["kind"] == "bundle" and event.after["count"] == 1
    assert event.after["description"] == f"Audit bundle: {UNIT}"


def test_bundle_command_of_hand_picked_enrolments(runner, decided, out) -> None:
    first, second = decided(), decided(unit="MEM16003")
    decided()  # not picked
    target = out / "picked.zip"
    result = run(
        runner, "bundle", str(target), "--enrolment", str(first.id), "--enrolment", str(second.id)
    )
    assert result.exit_code == 0, result.output
    archive, manifest = read_zip(target)
    assert manifest["enrolments"] == 2
    assert {f"mapping-matrix-{UNIT}.docx", "mapping-matrix-MEM16003.docx"} <= set(
        archive.namelist()
    )


def test_bundle_command_uses_no_deprecated_click_api(runner, decided, out) -> None:
    decided()
    result = run(runner, "bundle", str(out / "bundle.zip"), "--unit", UNIT)
    assert result.exit_code == 0, result.exception


# --- Errors ----------------------------------------------------------------------------------


def test_pack_command_with_an_unknown_enrolment(runner, synced, out) -> None:
    result = run(runner, "pack", "999999", str(out / "pack.docx"))
    assert result.exit_code == 1
    assert result.output == "Error: No enrolment has the id 999999.\n"
    assert files_in(out) == set()
    assert export_events() == []


def test_matrix_command_with_an_unknown_unit(runner, synced, out) -> None:
    result = run(runner, "matrix", "NOPE123", str(out / "matrix.docx"))
    assert result.exit_code == 1
    assert result.output == "Error: There is no unit NOPE123.\n"
    assert files_in(out) == set()
    assert export_events() == []


def test_register_command_with_a_reversed_date_range(runner, decided, out) -> None:
    decided()
    target = out / "register.csv"
    result = run(
        runner,
        "register",
        str(target),
        "--decided-from",
        "2026-12-01",
        "--decided-to",
        "2026-01-01",
    )
    assert result.exit_code == 1
    assert result.output == "Error: The start date is after the end date.\n"
    assert files_in(out) == set()
    assert export_events() == []


def test_bundle_command_with_an_unknown_enrolment(runner, decided, out) -> None:
    enrolment = decided()
    result = run(
        runner,
        "bundle",
        str(out / "b.zip"),
        "--enrolment",
        str(enrolment.id),
        "--enrolment",
        "999999",
    )
    assert result.exit_code == 1
    assert result.output == "Error: No enrolment has the id 999999.\n"
    assert "b.zip" not in files_in(out)
    assert export_events() == []


def test_bundle_command_that_fails_leaves_no_partial_file(runner, decided, out) -> None:
    decided()
    result = run(runner, "bundle", str(out / "b.zip"), "--enrolment", "999999")
    assert result.exit_code == 1
    assert files_in(out) == set()


@pytest.mark.parametrize("unit", ["NOPE123", "MEM16003"])
def test_bundle_command_when_nothing_matches(runner, decided, out, unit) -> None:
    decided()  # TLII5018 only
    result = run(runner, "bundle", str(out / "b.zip"), "--unit", unit)
    assert result.exit_code == 1
    assert "Error: " in result.output
    assert files_in(out) == set()
    assert export_events() == []


def test_register_command_with_an_unknown_unit(runner, decided, out) -> None:
    decided()
    result = run(runner, "register", str(out / "register.csv"), "--unit", "NOPE123")
    assert result.exit_code == 1
    assert "Error: " in result.output
    assert files_in(out) == set()
