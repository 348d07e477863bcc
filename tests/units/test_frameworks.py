"""A unit's framework as Moodle and Mahara import it, read back as each of them reads it.

The expected trees are built here from the unit's targets, not from the export code: every
criterion under its element (a NOS's under the framework), every evidence item under its section
or the item that leads it. The Mahara file is also filed the way Mahara's importer files it
(elements under the standard with the identical ``standardid``, a parent found among the
elements already read in that standard with PHP's loose ``==``).
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from portfolio.audit.exports import EXPORT_ACTION
from portfolio.extensions import db
from portfolio.models import AuditEvent, TargetKind, UnitRelease
from portfolio.units.frameworks import mahara_json, mahara_matrix, moodle_csv
from portfolio.units.services import get_release

UNITS = ["TLII5018", "INSCS042", "SITXCCS008"]

# tool_lpimportcsv's header strings, in the order framework_importer reads its columns.
MOODLE_HEADER = [
    "Parent ID number",
    "ID number",
    "Short name",
    "Description",
    "Description format",
    "Scale values",
    "Scale configuration",
    "Rule type (optional)",
    "Rule outcome (optional)",
    "Rule config (optional)",
    "Cross-referenced competency ID numbers",
    "Exported ID (optional)",
    "Is framework",
    "Taxonomy",
]
# competency_framework::get_taxonomies_list()
MOODLE_TAXONOMIES = {
    "behaviour",
    "competency",
    "concept",
    "domain",
    "indicator",
    "level",
    "outcome",
    "practice",
    "proficiency",
    "skill",
    "value",
}


def release_of(code: str) -> UnitRelease:
    found = get_release(db.session, code)
    assert found is not None
    return found


def key(ref: str) -> str:
    return ref.replace(" ", "")


def expected_moodle_parents(release: UnitRelease) -> dict[str, str]:
    """Every competency's ID number with its parent's ("" for the framework), from the targets."""
    code = release.unit.code
    numbers = {element.id: element.number for element in release.elements}
    parents = {f"{code}-E{element.number}": "" for element in release.elements}
    for target in release.targets:
        if target.kind is TargetKind.ELEMENT:
            continue  # the element's own competency, above
        if target.kind is TargetKind.PERFORMANCE_CRITERION:
            element = numbers.get(target.element_id) if target.element_id else None
            parents[f"{code}-{key(target.ref)}"] = f"{code}-E{element}" if element else ""
            continue
        section = f"{code}-{'PE' if target.kind is TargetKind.PERFORMANCE_EVIDENCE else 'KE'}"
        parents[section] = ""
        parent = f"{code}-{key(target.parent.ref)}" if target.parent_id else section
        parents[f"{code}-{key(target.ref)}"] = parent
    return parents


def read_moodle(text: str) -> tuple[list[str], list[dict[str, str]]]:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, data = rows[0], rows[1:]
    assert all(len(row) == len(header) for row in data), "every row has every column"
    return header, [dict(zip(header, row, strict=True)) for row in data]


# --- Moodle -----------------------------------------------------------------------------------


@pytest.mark.usefixtures("synced")
@pytest.mark.parametrize("code", UNITS)
def test_moodle_csv_has_the_importers_header_and_one_framework_row(code: str) -> None:
    """Exactly Moodle's columns; the first row is the framework, with the two-value scale."""
    release = release_of(code)
    header, rows = read_moodle(moodle_csv(release))
    assert header == MOODLE_HEADER
    frameworks = [row for row in rows if row["Is framework"]]
    assert frameworks == [rows[0]]
    framework = rows[0]
    assert framework["Is framework"] == "1"
    assert framework["Parent ID number"] == ""
    assert framework["ID number"] == f"{code}-r1"
    assert framework["Short name"] == f"{code} {release.title}"
    assert framework["Scale values"] == "Not yet competent,Competent"
    for paragraph in release.application:
        assert f"<p>{paragraph}</p>" in framework["Description"].replace("&amp;", "&")
    # A competency's own cells never mark it as a framework or carry a taxonomy.
    assert all(row["Is framework"] == "" and row["Taxonomy"] == "" for row in rows[1:])


@pytest.mark.usefixtures("synced")
def test_moodle_scale_configuration_makes_competent_the_default_and_proficient() -> None:
    """JSON as Moodle validates it: the scale first, then Competent (item 2) default and
    proficient, Not yet competent neither."""
    _, rows = read_moodle(moodle_csv(release_of("TLII5018")))
    config = json.loads(rows[0]["Scale configuration"])
    assert isinstance(config, list) and "scaleid" in config[0]
    items = rows[0]["Scale values"].split(",")
    by_value = {items[entry["id"] - 1]: entry for entry in config[1:]}
    assert by_value["Competent"]["scaledefault"] == 1 and by_value["Competent"]["proficient"] == 1
    assert by_value["Not yet competent"]["scaledefault"] == 0
    assert by_value["Not yet competent"]["proficient"] == 0


@pytest.mark.usefixtures("synced")
@pytest.mark.parametrize("code", UNITS)
def test_moodle_csv_read_back_gives_the_units_tree(code: str) -> None:
    """Re-read with the csv module, the rows form the unit: every criterion and evidence item
    once, under the right parent, ID numbers unique, each parent listed before its children."""
    release = release_of(code)
    _, rows = read_moodle(moodle_csv(release))
    competencies = rows[1:]
    ids = [row["ID number"] for row in competencies]
    assert len(ids) == len(set(ids))
    assert {row["ID number"]: row["Parent ID number"] for row in competencies} == (
        expected_moodle_parents(release)
    )
    seen: set[str] = set()
    for row in competencies:
        assert row["Parent ID number"] in seen | {""}, row["ID number"]
        seen.add(row["ID number"])
    # Moodle keeps 100 characters of both; nothing is left for it to cut.
    assert all(len(row["Short name"]) <= 100 and len(row["ID number"]) <= 100 for row in rows)


@pytest.mark.usefixtures("synced")
@pytest.mark.parametrize(("code", "depth"), [("TLII5018", 2), ("INSCS042", 2), ("SITXCCS008", 4)])
def test_moodle_taxonomy_names_every_level_with_terms_moodle_accepts(code: str, depth: int) -> None:
    """One term per level of the tree (SITXCCS008's knowledge is nested three deep)."""
    _, rows = read_moodle(moodle_csv(release_of(code)))
    terms = rows[0]["Taxonomy"].split(",")
    assert len(terms) == depth
    assert set(terms) <= MOODLE_TAXONOMIES


@pytest.mark.usefixtures("synced")
def test_moodle_rows_read_as_the_unit_page_does() -> None:
    """Criteria under their element, a NOS's criteria under the framework, a summary unit's
    elements as competencies of their own, evidence nested under the item that leads it."""
    _, tlii = read_moodle(moodle_csv(release_of("TLII5018")))
    by_id = {row["ID number"]: row for row in tlii}
    assert by_id["TLII5018-E1"]["Short name"] == (
        "Element 1 Plan to meet internal and external customer requirements"
    )
    criterion = by_id["TLII5018-1.1"]
    assert criterion["Parent ID number"] == "TLII5018-E1"
    assert criterion["Short name"].startswith("1.1 Customer needs are researched")
    assert criterion["Description"] == (
        "<p>Customer needs are researched, clarified, assessed and included in the planning "
        "process</p>"
    )
    assert criterion["Description format"] == "1"  # HTML
    assert by_id["TLII5018-PE"]["Short name"] == "Performance evidence"
    # Too long for a short name: cut at a word, the whole text in the description.
    long = by_id["TLII5018-1.2"]
    assert long["Short name"].endswith("…") and len(long["Short name"]) <= 100
    assert "in accordance with organisational policies and procedures" in long["Description"]

    _, nos = read_moodle(moodle_csv(release_of("INSCS042")))
    by_id = {row["ID number"]: row for row in nos}
    assert by_id["INSCS042-7"]["Parent ID number"] == ""
    assert by_id["INSCS042-KE"]["Short name"] == "Knowledge and understanding"
    assert not any(row["ID number"].startswith("INSCS042-E") for row in nos)

    _, summary = read_moodle(moodle_csv(release_of("SITXCCS008")))
    by_id = {row["ID number"]: row for row in summary}
    assert by_id["SITXCCS008-E2"]["Parent ID number"] == ""
    assert not any(row["Parent ID number"] == "SITXCCS008-E2" for row in summary)
    assert by_id["SITXCCS008-KE12.10.2"]["Parent ID number"] == "SITXCCS008-KE12.10"
    assert by_id["SITXCCS008-KE12.10"]["Parent ID number"] == "SITXCCS008-KE12"
    assert by_id["SITXCCS008-KE12"]["Parent ID number"] == "SITXCCS008-KE"


# --- Mahara -----------------------------------------------------------------------------------


def php_loose_equal(a: str, b: str) -> bool:
    """PHP's ``==`` on two strings: numerically when both are numeric ("12.1" == "12.10")."""
    number = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*")
    if number.fullmatch(a) and number.fullmatch(b):
        return float(a) == float(b)
    return a == b


def file_as_mahara_does(matrix: dict) -> dict[int, list[tuple[str, str | None]]]:
    """Each standard's elements as Mahara stores them: (elementid, parent's elementid).

    ``matrix_is_valid_json`` files an element under the standard whose ``standardid`` is
    identical; ``Framework::commit`` resolves ``parentelementid`` with ``array_search`` over the
    elements of that standard inserted so far.
    """
    framework = matrix["framework"]
    filed: dict[int, list[tuple[str, str | None]]] = {}
    for position, standard in enumerate(framework["standards"]):
        inserted: list[str] = []
        rows = filed[position] = []
        for element in framework["standardelements"]:
            if type(element["standardid"]) is not type(standard["standardid"]):
                continue
            if element["standardid"] != standard["standardid"]:
                continue
            parent, found = element.get("parentelementid"), None
            if parent:
                found = next((i for i in inserted if php_loose_equal(i, parent)), None)
                assert found is not None, f"{parent} is not an earlier element of its standard"
            rows.append((element["elementid"], found))
            inserted.append(element["elementid"])
    return filed


def expected_mahara(release: UnitRelease) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Each standard's short name with its elements (elementid, parent's), from the targets."""
    standards: list[tuple[str, list[tuple[str, str | None]]]] = []
    by_element = {element.id: [] for element in release.elements}
    loose, evidence = [], {TargetKind.PERFORMANCE_EVIDENCE: [], TargetKind.KNOWLEDGE_EVIDENCE: []}
    for target in release.targets:
        entry = (key(target.ref), key(target.parent.ref) if target.parent_id else None)
        if target.kind in evidence:
            evidence[target.kind].append(entry)
        elif target.element_id:
            by_element[target.element_id].append(entry)
        else:
            loose.append(entry)
    for element in release.elements:
        standards.append((f"Element {element.number}", by_element[element.id]))
    if loose:
        standards.append(("Performance criteria", loose))
    nos = release.framework.value == "nos"
    knowledge = "Knowledge and understanding" if nos else "Knowledge evidence"
    for label, kind in (
        ("Performance evidence", TargetKind.PERFORMANCE_EVIDENCE),
        (knowledge, TargetKind.KNOWLEDGE_EVIDENCE),
    ):
        if evidence[kind]:
            standards.append((label, evidence[kind]))
    return standards


@pytest.mark.usefixtures("synced")
@pytest.mark.parametrize("code", UNITS)
def test_mahara_matrix_has_the_keys_mahara_reads(code: str) -> None:
    """The .matrix parses as JSON with the framework, its statuses, standards and elements, each
    with the keys and types Mahara's importer and editor use, within its column sizes."""
    release = release_of(code)
    matrix = json.loads(mahara_json(release))
    assert matrix == mahara_matrix(release)
    assert set(matrix) == {"framework"}
    framework = matrix["framework"]
    assert set(framework) == {
        "institution",
        "name",
        "description",
        "selfassess",
        "evidencestatuses",
        "standards",
        "standardelements",
    }
    assert framework["institution"] == "all"
    assert framework["name"] == f"{code} {release.title} (release 1)"
    assert framework["selfassess"] is False
    assert [next(iter(status)) for status in framework["evidencestatuses"]] == [
        "begun",
        "incomplete",
        "partialcomplete",
        "completed",
    ]
    ids = [standard["standardid"] for standard in framework["standards"]]
    assert all(type(i) is int for i in ids) and len(ids) == len(set(ids))
    for standard in framework["standards"]:
        assert set(standard) == {"shortname", "name", "description", "standardid"}
        assert 0 < len(standard["shortname"]) <= 100 and 0 < len(standard["name"]) <= 255
    elements = framework["standardelements"]
    for element in elements:
        assert {"shortname", "name", "description", "standardid", "elementid"} <= set(element)
        assert set(element) <= {
            "shortname",
            "name",
            "description",
            "standardid",
            "elementid",
            "parentelementid",
        }
        assert element["standardid"] in ids
        assert isinstance(element["elementid"], str)
        assert 0 < len(element["shortname"]) <= 100 and 0 < len(element["name"]) <= 255
    element_ids = [element["elementid"] for element in elements]
    assert len(element_ids) == len(set(element_ids))
    known = set(element_ids)
    assert all(e["parentelementid"] in known for e in elements if "parentelementid" in e)


@pytest.mark.usefixtures("synced")
@pytest.mark.parametrize("code", UNITS)
def test_mahara_files_every_target_once_under_its_standard_and_parent(code: str) -> None:
    """Filed as Mahara files it, the framework is the unit: each standard's elements in order,
    every target once, each nested item under the item that leads it."""
    release = release_of(code)
    matrix = mahara_matrix(release)
    filed = file_as_mahara_does(matrix)
    names = [standard["shortname"] for standard in matrix["framework"]["standards"]]
    assert list(zip(names, filed.values(), strict=True)) == expected_mahara(release)
    assert sum(len(elements) for elements in filed.values()) == len(release.targets)


@pytest.mark.usefixtures("synced")
def test_mahara_standards_read_as_the_unit_does() -> None:
    """Elements are standards with their criteria ("1.1"); a NOS has one standard of criteria;
    a summary unit's element is the one element of its standard."""
    framework = mahara_matrix(release_of("TLII5018"))["framework"]
    assert [s["shortname"] for s in framework["standards"]] == [
        "Element 1",
        "Element 2",
        "Element 3",
        "Performance evidence",
        "Knowledge evidence",
    ]
    assert framework["standards"][0]["name"] == (
        "Plan to meet internal and external customer requirements"
    )
    first = framework["standardelements"][0]
    assert (first["elementid"], first["shortname"], first["standardid"]) == ("1.1", "1.1", 1)
    assert first["name"] == (
        "Customer needs are researched, clarified, assessed and included in the planning process"
    )
    assert first["description"] == f"<p>{first['name']}</p>"
    assert "parentelementid" not in first

    nos = mahara_matrix(release_of("INSCS042"))["framework"]
    assert [s["shortname"] for s in nos["standards"]] == [
        "Performance criteria",
        "Knowledge and understanding",
    ]
    assert nos["standards"][0]["description"] == "<p>You must be able to:</p>"
    criteria = [e["elementid"] for e in nos["standardelements"] if e["standardid"] == 1]
    assert criteria == [str(n) for n in range(1, 20)]

    summary = mahara_matrix(release_of("SITXCCS008"))["framework"]
    second = [e for e in summary["standardelements"] if e["standardid"] == 2]
    assert [(e["elementid"], e["name"]) for e in second] == [
        ("E2", "Manage delivery of quality service.")
    ]
    nested = next(e for e in summary["standardelements"] if e["elementid"] == "KE12.10.2")
    assert nested["parentelementid"] == "KE12.10" and nested["shortname"] == "KE 12.10.2"


@pytest.mark.usefixtures("synced")
def test_exports_read_only_what_the_unit_page_loads(count_queries) -> None:
    """Once the release is loaded as the unit page loads it, neither format runs a query."""
    release = release_of("SITXCCS008")
    with count_queries() as counter:
        moodle_csv(release)
        mahara_json(release)
    assert counter.count == 0, counter.statements


# --- Routes -----------------------------------------------------------------------------------


def export_events() -> list[AuditEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == EXPORT_ACTION).order_by(AuditEvent.seq)
        )
    )


@pytest.mark.usefixtures("synced")
def test_admin_downloads_the_moodle_csv(client: FlaskClient, make_user, login) -> None:
    """An attachment named after the unit and release, the same CSV, and a record of the copy."""
    login(make_user("admin"))
    response = client.post("/units/TLII5018/releases/1/moodle.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == "attachment; filename=TLII5018-r1-moodle.csv"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.get_data(as_text=True) == moodle_csv(release_of("TLII5018"))
    [event] = export_events()
    assert event.subject == "export:moodle-framework"
    assert event.after["count"] == len(release_of("TLII5018").targets)
    assert "TLII5018 release 1" in event.after["description"]


@pytest.mark.usefixtures("synced")
def test_admin_downloads_the_mahara_matrix(client: FlaskClient, make_user, login) -> None:
    """A .matrix attachment (JSON) for the release named, and a record of the copy."""
    login(make_user("admin"))
    response = client.post("/units/inscs042/releases/1/mahara.matrix")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=INSCS042-r1-mahara.matrix"
    )
    assert json.loads(response.get_data(as_text=True)) == mahara_matrix(release_of("INSCS042"))
    [event] = export_events()
    assert event.subject == "export:mahara-framework"


@pytest.mark.usefixtures("synced")
@pytest.mark.parametrize("role", ["learner", "assessor"])
@pytest.mark.parametrize("name", ["moodle.csv", "mahara.matrix"])
def test_learners_and_assessors_may_not_export(
    client: FlaskClient, make_user, login, role: str, name: str
) -> None:
    """Exports are the admin's: anyone else is refused, and nothing is recorded."""
    login(make_user(role))
    response = client.post(f"/units/TLII5018/releases/1/{name}")
    assert response.status_code == 403
    assert "Content-Disposition" not in response.headers
    assert export_events() == []


@pytest.mark.usefixtures("synced")
@pytest.mark.parametrize("name", ["moodle.csv", "mahara.matrix"])
def test_a_visitor_is_sent_to_log_in(client: FlaskClient, name: str) -> None:
    response = client.post(f"/units/TLII5018/releases/1/{name}")
    assert response.status_code == 302 and "/login" in response.location


@pytest.mark.usefixtures("synced")
@pytest.mark.parametrize("name", ["moodle.csv", "mahara.matrix"])
def test_unknown_unit_or_release_is_not_found(
    client: FlaskClient, make_user, login, name: str
) -> None:
    login(make_user("admin"))
    missing_unit = client.post(f"/units/NOPE123/releases/1/{name}")
    assert missing_unit.status_code == 404
    assert "There is no unit NOPE123 release 1." in missing_unit.text
    assert client.post(f"/units/TLII5018/releases/9/{name}").status_code == 404
    assert export_events() == []


@pytest.mark.usefixtures("synced")
def test_unit_page_offers_the_downloads_to_admins_only(
    client: FlaskClient, make_user, login
) -> None:
    """The buttons send for the release shown; learners, assessors and visitors do not see them."""
    links = (
        'action="/units/TLII5018/releases/1/moodle.csv"',
        'action="/units/TLII5018/releases/1/mahara.matrix"',
    )
    assert not any(link in client.get("/units/TLII5018").text for link in links)
    for role in ("learner", "assessor"):
        login(make_user(role))
        assert not any(link in client.get("/units/TLII5018").text for link in links)
    login(make_user("admin"))
    page = client.get("/units/TLII5018").text
    assert all(link in page for link in links)
    assert export_events() == []  # looking at the page is not an export
