"""The validator names the file, line, path and reason of every problem in a unit file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner

from portfolio.units.loader import Problem, expand_criterion_refs, load_files
from tests.conftest import UNITS_DIR

GOOD = """\
code: ABC101
title: Do a thing
release: 1
framework: training_package
elements:
  - number: "1"
    title: First element
    criteria:
      - number: "1.1"
        text: First criterion
      - number: "1.2"
        text: Second criterion
"""


def problems_of(tmp_path: Path, text: str, name: str = "ABC101.yaml") -> list[Problem]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_files([path]).problems


def test_a_good_file_loads(tmp_path: Path) -> None:
    """The minimal unit of the schema is accepted."""
    assert problems_of(tmp_path, GOOD) == []


def test_yaml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    """A broken YAML file is reported at the line the parser stopped on."""
    [problem] = problems_of(tmp_path, GOOD.replace("title: First element", "title: [oops"))
    assert problem.line == 8
    assert "not valid YAML" in problem.reason


def test_unquoted_number_names_path_and_fix(tmp_path: Path) -> None:
    """A criterion number written as a YAML number is refused with the way to fix it."""
    [problem] = problems_of(tmp_path, GOOD.replace('"1.2"', "1.2"))
    assert problem.path == "elements[0].criteria[1].number"
    assert problem.line == 11
    assert "quoted string" in problem.reason
    assert str(problem).startswith(f"{tmp_path / 'ABC101.yaml'}:11: elements[0].criteria[1].number")


def test_every_problem_is_reported_not_only_the_first(tmp_path: Path) -> None:
    """Missing title, unknown field and an empty text come back together."""
    text = GOOD.replace("title: Do a thing\n", "colour: blue\n").replace(
        "text: First criterion", 'text: ""'
    )
    found = {(p.path, p.line, p.reason) for p in problems_of(tmp_path, text)}
    assert ("title", 1, "required field is missing") in found
    assert any(path == "colour" and line == 2 and "unknown field" in r for path, line, r in found)
    assert any(path == "elements[0].criteria[0].text" and line == 10 for path, line, _ in found)


@pytest.mark.parametrize(
    ("change", "path", "reason"),
    [
        (('"1.2"', '"1.3"'), "elements[0].criteria[1].number", "expected criterion number 1.2"),
        (('number: "1"\n', 'number: "2"\n'), "elements[0].number", "expected element number 1"),
        (("code: ABC101", "code: abc101"), "code", "is not a unit code"),
        (("code: ABC101", "code: XYZ999"), "code", "does not match the file name"),
        (("release: 1", "release: 0"), "release", "greater than or equal to 1"),
        (("training_package", "tafe"), "framework", "'training_package' or 'nos'"),
    ],
)
def test_meaning_errors_are_located(
    tmp_path: Path, change: tuple[str, str], path: str, reason: str
):
    """Numbering, codes, releases and frameworks are checked, each at its own path."""
    problems = problems_of(tmp_path, GOOD.replace(*change))
    assert [p.path for p in problems] == [path]
    assert reason in problems[0].reason


def test_duplicate_key_is_reported(tmp_path: Path) -> None:
    """YAML would silently keep the second of two equal keys; the validator says so."""
    [problem] = problems_of(tmp_path, GOOD.replace("release: 1\n", "release: 1\nrelease: 2\n"))
    assert (problem.line, problem.reason) == (4, "field 'release' is given twice")


def test_a_unit_needs_criteria_or_elements(tmp_path: Path) -> None:
    """A unit with nothing to map evidence to is refused."""
    text = GOOD.split("elements:")[0]
    [problem] = problems_of(tmp_path, text)
    assert problem.path == "elements"
    assert "needs elements" in problem.reason


def test_foundation_skill_references_must_name_criteria(tmp_path: Path) -> None:
    """A skill shown in a criterion the unit does not have is refused."""
    text = GOOD + (
        "foundation_skills:\n  skills:\n    - skill: Reading\n"
        '      criteria: ["1.1", "1.1-1.9"]\n      descriptions: [Reads]\n'
    )
    [problem] = problems_of(tmp_path, text)
    assert problem.path == "foundation_skills.skills[0].criteria"
    assert problem.line == 16
    assert "'1.1-1.9' is not a range" in problem.reason


def test_release_in_file_name_must_match(tmp_path: Path) -> None:
    """ABC101.r2.yaml must hold release 2."""
    [problem] = problems_of(tmp_path, GOOD, name="ABC101.r2.yaml")
    assert problem.path == "release"


def test_two_files_for_the_same_release(tmp_path: Path) -> None:
    """Two files may not both define one code and release."""
    (tmp_path / "ABC101.yaml").write_text(GOOD)
    (tmp_path / "ABC101.r1.yaml").write_text(GOOD)
    problems = load_files(sorted(tmp_path.iterdir())).problems
    assert len(problems) == 1
    assert "ABC101 release 1 is already given by" in problems[0].reason


def test_a_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    """A list at the top of the file is refused with a reason, not a crash."""
    [problem] = problems_of(tmp_path, "- just\n- a list\n")
    assert problem.reason == "a unit file must be a mapping of fields"


def test_expand_criterion_ranges() -> None:
    """A foundation skill range 3.1-3.5 stands for every criterion between."""
    numbers = ["1.1", "1.2", "3.1", "3.2", "3.3"]
    assert expand_criterion_refs(["1.2", "3.1-3.3"], numbers) == ["1.2", "3.1", "3.2", "3.3"]
    assert isinstance(expand_criterion_refs(["3.3-3.1"], numbers), str)


def test_validate_command_accepts_the_shipped_units(runner: FlaskCliRunner) -> None:
    """``flask units validate`` passes on units/ and says how many files it read."""
    result = runner.invoke(args=["units", "validate"])
    assert result.exit_code == 0, result.output
    assert "5 unit files are valid" in result.output


def test_validate_command_fails_with_every_problem(runner: FlaskCliRunner, tmp_path: Path):
    """A broken file makes ``flask units validate`` exit 1 and print each located problem."""
    good = tmp_path / "TLII5018.yaml"
    shutil.copy(UNITS_DIR / "TLII5018.yaml", good)
    bad = tmp_path / "ABC101.yaml"
    bad.write_text(GOOD.replace('"1.2"', "1.2").replace("title: Do a thing\n", ""))
    result = runner.invoke(args=["units", "validate", str(good), str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:10: elements[0].criteria[1].number" in result.output
    assert f"{bad}:1: title: required field is missing" in result.output
    assert "2 problems; nothing was changed." in result.output


ALIAS_BOMB = "\n".join(
    ["code: ABC101", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [
        f"{new}: &{new} [" + ",".join([f"*{old}"] * 9) + "]"
        for old, new in zip("abcdefgh", "bcdefghi", strict=True)
    ]
)


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    """Nested aliases (354 bytes, 9^9 nodes once expanded) are refused by name, in a process
    with a time limit: before, `units validate` and so the app's start hung on them."""
    assert len(ALIAS_BOMB) < 700
    path = tmp_path / "ABC101.yaml"
    path.write_text(ALIAS_BOMB, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "portfolio", "units", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PORTFOLIO_INSTANCE_PATH": str(tmp_path / "instance")},
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "aliases (*a) are not allowed in a unit file" in result.stdout + result.stderr
    assert ":3:" in result.stdout + result.stderr  # the line of the first alias


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("code: ABC101\nelements: " + "[" * 5000 + "]" * 5000 + "\n", 2),
        ("code: ABC101\nelements:\n" + "".join("  " * n + "- a:\n" for n in range(5000)), 34),
    ],
    ids=["flow", "block"],
)
def test_a_unit_file_nested_past_any_unit_is_refused_with_its_line(
    runner: FlaskCliRunner, tmp_path: Path, text: str, line: int
) -> None:
    path = tmp_path / "ABC101.yaml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(args=["units", "validate", str(path)])
    assert result.exit_code == 1
    said = f"{path}:{line}: (file): not valid YAML: values nested more than 64 levels deep"
    assert said in result.output
