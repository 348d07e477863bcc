"""The unit list and the unit page show every unit and every section, readably."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from portfolio.extensions import db
from portfolio.units.loader import load_text
from portfolio.units.sync import sync_units
from tests.conftest import UNITS_DIR


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.usefixtures("synced")
def test_unit_list_shows_each_unit_with_counts(client: FlaskClient) -> None:
    """Code, title, release, framework and counts for every unit."""
    page = client.get("/units")
    assert page.status_code == 200
    rows = re.findall(r"<tr>(.*?)</tr>", page.text, re.S)[1:]
    cells = [
        [text_of(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)] for r in rows
    ]
    assert cells == [
        [
            "BSBCUS501",
            "Manage quality customer service",
            "1",
            "AU training package",
            "3",
            "10",
            "6",
            "15",
        ],
        [
            "INSCS042",
            "Plan, organise and control customer service operations",
            "1",
            "UK National Occupational Standard",
            "0",
            "19",
            "0",
            "16",
        ],
        [
            "MEM16003",
            "Provide advanced customer service",
            "1",
            "AU training package",
            "5",
            "19",
            "0",
            "0",
        ],
        [
            "SITXCCS008",
            "Develop and manage quality customer service practices",
            "1",
            "AU training package",
            "3",
            "0",
            "4",
            "65",
        ],
        ["TLII5018", "Manage customer service", "1", "AU training package", "3", "10", "7", "7"],
    ]


def test_unit_list_when_empty_says_how_to_load(client: FlaskClient) -> None:
    """Before any sync, the list explains how to load units rather than showing nothing."""
    assert "flask units sync" in client.get("/units").text


@pytest.mark.usefixtures("synced")
def test_unit_list_runs_a_fixed_number_of_queries(client: FlaskClient, count_queries) -> None:
    """Adding units does not add queries to the list page."""
    with count_queries() as few:
        client.get("/units")
    template = (UNITS_DIR / "BSBCUS501.yaml").read_text()
    for n in range(3):
        loaded = load_text(template.replace("BSBCUS501", f"ABC10{n}"), f"ABC10{n}.yaml")
        sync_units(db.session, loaded.units)
    db.session.commit()
    with count_queries() as many:
        page = client.get("/units")
    assert "ABC102" in page.text
    assert many.count == few.count <= 4


@pytest.mark.usefixtures("synced")
def test_tlii5018_page_shows_every_section(client: FlaskClient) -> None:
    """Application, elements and criteria, evidence, conditions, skills, range, field, sector."""
    page = client.get("/units/TLII5018")
    assert page.status_code == 200
    html, text = page.text, text_of(page.text)
    for heading in (
        "Application",
        "Elements and performance criteria",
        "Performance evidence",
        "Knowledge evidence",
        "Assessment conditions",
        "Foundation skills",
        "Range statement",
    ):
        assert f">{heading}</h2>" in html
    assert 'id="pc-2.3"' in html
    assert "Colleagues are coached and mentored to assist them" in text
    assert 'id="pe-7"' in html and 'id="ke-7"' in html
    assert "Resources for assessment include:" in text
    assert "relevant and appropriate materials, tools, equipment" in text
    assert "I ‒ Customer Service" in text and "Not applicable." in text
    assert "Non-essential conditions can be found in the Companion Volume" in text


@pytest.mark.usefixtures("synced")
def test_bsbcus501_page_links_foundation_skills_to_criteria(client: FlaskClient) -> None:
    """The skills table keeps its criteria, each linked to its anchor."""
    html = client.get("/units/BSBCUS501").text
    assert '<a href="#pc-3.1">3.1-3.5</a>' in html
    assert "Navigate the world of work" in html
    assert 'id="ke-6.9"' in html
    assert "Stakeholder Relations – Customer Service" in html


@pytest.mark.usefixtures("synced")
def test_mem16003_page_shows_band_weight_and_range(client: FlaskClient) -> None:
    """A MEM unit shows its band, unit weight and every range statement term and value."""
    text = text_of(client.get("/units/MEM16003").text)
    assert "Band B" in text and "Unit weight 2" in text
    assert "Sources of complaint or issue include one (1) or more of the following:" in text
    assert "supply chain relationship" in text
    assert "Competency field Communication" in text


@pytest.mark.usefixtures("synced")
def test_nos_page_reads_as_a_uk_standard(client: FlaskClient) -> None:
    """INSCS042 has an overview, criteria without elements and knowledge and understanding."""
    html = client.get("/units/inscs042").text
    assert ">Overview</h2>" in html and ">Knowledge and understanding</h2>" in html
    assert "Element" not in text_of(html)
    assert 'id="pc-19"' in html and 'id="ke-16"' in html
    assert "You must be able to:" in html


@pytest.mark.usefixtures("synced")
def test_summary_unit_page_maps_to_elements(client: FlaskClient) -> None:
    """SITXCCS008 shows its elements as the targets and its knowledge nested three deep."""
    html = client.get("/units/SITXCCS008").text
    assert 'id="el-2"' in html
    assert "without performance criteria" in html
    assert 'id="ke-12.10.2"' in html


@pytest.mark.usefixtures("synced")
def test_unknown_unit_and_release_are_a_clear_404(client: FlaskClient) -> None:
    """A mistyped code or a release that does not exist says which."""
    missing = client.get("/units/NOPE123")
    assert missing.status_code == 404
    assert "There is no unit NOPE123." in missing.text
    assert "There is no unit TLII5018 release 9." in client.get("/units/TLII5018/releases/9").text


@pytest.mark.usefixtures("synced")
def test_named_release_page(client: FlaskClient) -> None:
    """A release can be opened by number."""
    page = client.get("/units/TLII5018/releases/1")
    assert page.status_code == 200
    assert "Release 1" in page.text


def test_home_asks_a_visitor_to_log_in(client: FlaskClient) -> None:
    """The start page leads a visitor to the login page, which also links the public units."""
    response = client.get("/")
    assert response.status_code == 302 and response.location.endswith("/login")
    page = client.get(response.location)
    assert 'href="/units"' in page.text
