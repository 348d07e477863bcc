"""``flask units sync``: one transaction, idempotent, and a loaded release is never rewritten."""

from __future__ import annotations

import shutil
from pathlib import Path

from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from portfolio.extensions import db
from portfolio.models import Element, Target, TargetKind, Unit, UnitRelease
from tests.conftest import UNITS_DIR


def row_counts() -> dict[str, int]:
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Unit, UnitRelease, Element, Target)
    }


def copy_units(tmp_path: Path, *codes: str) -> Path:
    folder = tmp_path / "units"
    folder.mkdir(exist_ok=True)
    for code in codes:
        shutil.copy(UNITS_DIR / f"{code}.yaml", folder)
    return folder


def test_sync_loads_all_five_units(runner: FlaskCliRunner) -> None:
    """Every unit lands with its elements and targets."""
    result = runner.invoke(args=["units", "sync"])
    assert result.exit_code == 0, result.output
    assert "5 added, 0 already loaded." in result.output
    counts = dict(
        db.session.execute(
            select(Unit.code, func.count(Target.id))
            .join(UnitRelease, UnitRelease.unit_id == Unit.id)
            .join(Target, Target.unit_release_id == UnitRelease.id)
            .where(Target.kind == TargetKind.PERFORMANCE_CRITERION)
            .group_by(Unit.code)
        ).all()
    )
    assert counts == {"TLII5018": 10, "BSBCUS501": 10, "MEM16003": 19, "INSCS042": 19}
    sitx = db.session.scalars(
        select(Target).join(UnitRelease).join(Unit).where(Unit.code == "SITXCCS008")
    ).all()
    assert sum(t.kind is TargetKind.ELEMENT for t in sitx) == 3
    nested = next(t for t in sitx if t.anchor == "ke-8.2.1")
    assert nested.text == "staff in meeting customer service standards"
    assert nested.parent.anchor == "ke-8.2" and nested.depth == 2


def test_sync_twice_changes_nothing(runner: FlaskCliRunner) -> None:
    """A second sync adds no row and touches no loaded release."""
    runner.invoke(args=["units", "sync"])
    before = row_counts()
    loaded_at = db.session.scalars(select(UnitRelease.loaded_at).order_by(UnitRelease.id)).all()
    result = runner.invoke(args=["units", "sync"])
    assert result.exit_code == 0
    assert "0 added, 5 already loaded." in result.output
    db.session.expire_all()
    assert row_counts() == before
    assert db.session.scalars(select(UnitRelease.loaded_at).order_by(UnitRelease.id)).all() == (
        loaded_at
    )


def test_new_release_is_added_beside_the_old(runner: FlaskCliRunner, tmp_path: Path) -> None:
    """Release 2 of a unit joins release 1, which keeps its own content."""
    folder = copy_units(tmp_path, "TLII5018")
    runner.invoke(args=["units", "sync", str(folder / "TLII5018.yaml")])
    second = folder / "TLII5018.r2.yaml"
    second.write_text(
        (folder / "TLII5018.yaml")
        .read_text()
        .replace("release: 1", "release: 2")
        .replace("Customer needs are researched", "Customer needs are investigated")
    )
    result = runner.invoke(args=["units", "sync", str(folder / "TLII5018.yaml"), str(second)])
    assert result.exit_code == 0, result.output
    assert "added TLII5018 release 2" in result.output
    texts = dict(
        db.session.execute(
            select(UnitRelease.release, Target.text)
            .join(Target)
            .where(Target.anchor == "pc-1.1")
            .order_by(UnitRelease.release)
        ).all()
    )
    assert texts[1].startswith("Customer needs are researched")
    assert texts[2].startswith("Customer needs are investigated")


def test_changed_release_is_refused_and_nothing_written(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    """Editing a loaded release in place is refused; the other units in the run are not loaded."""
    folder = copy_units(tmp_path, "TLII5018")
    runner.invoke(args=["units", "sync", str(folder / "TLII5018.yaml")])
    before = row_counts()
    path = folder / "TLII5018.yaml"
    path.write_text(path.read_text().replace("Customer needs are researched", "Needs are found"))
    shutil.copy(UNITS_DIR / "MEM16003.yaml", folder)
    result = runner.invoke(args=["units", "sync", str(path), str(folder / "MEM16003.yaml")])
    assert result.exit_code == 1
    assert "TLII5018 release 1 is already loaded with different content" in result.output
    assert "nothing was changed" in result.output
    db.session.expire_all()
    assert row_counts() == before


def test_layout_and_comments_are_not_a_change(runner: FlaskCliRunner, tmp_path: Path) -> None:
    """Only content counts: reformatting a loaded file is not a new release."""
    folder = copy_units(tmp_path, "BSBCUS501")
    path = folder / "BSBCUS501.yaml"
    runner.invoke(args=["units", "sync", str(path)])
    path.write_text("# transcribed from the published page\n" + path.read_text() + "\n\n")
    result = runner.invoke(args=["units", "sync", str(path)])
    assert result.exit_code == 0
    assert "0 added, 1 already loaded." in result.output


def test_one_bad_file_stops_the_whole_sync(runner: FlaskCliRunner, tmp_path: Path) -> None:
    """Validate everything, then write everything: a broken file means no unit is loaded."""
    folder = copy_units(tmp_path, "TLII5018")
    (folder / "ABC101.yaml").write_text("code: ABC101\n")
    result = runner.invoke(args=["units", "sync", *map(str, sorted(folder.iterdir()))])
    assert result.exit_code == 1
    assert "ABC101.yaml:1: title: required field is missing" in result.output
    assert row_counts()["units"] == 0
