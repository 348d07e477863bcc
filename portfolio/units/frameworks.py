"""A unit's framework for the LMS or e-portfolio an RTO already runs: Moodle and Mahara.

Both take the unit as a tree: the elements with their performance criteria (a NOS's criteria
on their own), then the performance evidence and the knowledge evidence with their nested
items. ``unit_outline`` arranges a loaded release (no further queries) as that tree once;
``moodle_csv`` and ``mahara_matrix`` write it in each system's own format.

Moodle: a competency framework CSV for *Import competency framework*
(``admin/tool/lpimportcsv``). Checked against moodle/moodle:

- ``admin/tool/lpimportcsv/classes/framework_importer.php``: ``list_required_headers()`` gives
  the 14 columns in order (read by position unless the column mapping is changed on import);
  a row whose *Is framework* cell is not empty is the framework; every other row is a
  competency placed under the row whose *ID number* equals its *Parent ID number* (empty: the
  framework). Short names and ID numbers are cut to 100 characters. *Scale values* is matched
  against the site's scales by their items; *Scale configuration* is JSON whose first object
  names the scale and is replaced by the matching scale's id on import.
- ``admin/tool/lpimportcsv/classes/framework_exporter.php``: what Moodle itself writes (the
  framework row's *Is framework* is PHP ``true``, so "1"; a competency's empty; a rule-less
  competency has rule outcome "0" and rule config "null").
- ``admin/tool/lpimportcsv/lang/en/tool_lpimportcsv.php``: the header strings ("Parent ID
  number", "Rule type (optional)", "Exported ID (optional)", ...).
- ``competency/classes/competency_framework.php``: the taxonomy terms Moodle accepts
  (behaviour, competency, concept, domain, indicator, level, outcome, practice, proficiency,
  skill, value), one per level, comma separated; a framework's ID number is unique on the whole
  site (``validate_idnumber``), a competency's only within its framework
  (``competency/classes/competency.php``); the scale configuration needs a default and a
  proficient value. The forum thread https://moodle.org/mod/forum/discuss.php?d=397133 and
  https://docs.moodle.org/36/en/Competency_frameworks explain the scale configuration.

Mahara: a SmartEvidence ``.matrix`` file for *Extensions → SmartEvidence → Import*. Checked
against MaharaProject/mahara ``htdocs/module/framework/``: the bundled ``matrices/*.matrix``
(``nz_teaching_standards_english.matrix``, ``ptc_nz.matrix``: the "standards" /
"standardelements" form, integer standard ids, string element ids); ``lib.php``
(``matrix_is_valid_json`` needs ``framework.name`` and files each standard element under the
standard whose ``standardid`` is identical, ``===``; ``Framework::commit`` reads
``evidencestatuses`` as ``{"begun"|"incomplete"|"partialcomplete"|"completed": name}`` and
resolves ``parentelementid`` against the element ids already inserted *in the same standard*,
with PHP's loose ``array_search``); ``db/install.xml`` (short names 100, names 255 characters);
``js/editor.js`` (the editor's JSON schema, the same keys and limits); and the Mahara manual's
*Import a framework file* (https://manual.mahara.org/nl/24.04/administration/smartevidence_import.html,
in English).

Because of that loose comparison a numeric element id such as "12.1" would also match "12.10",
so evidence items get ids with their letters ("KE12.10"), which compare as text; criteria keep
their numbers ("1.1"), which nothing refers to as a parent.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from portfolio.models import Framework, Target, TargetKind, UnitRelease
from portfolio.spreadsheets import excel_safe
from portfolio.units.services import TargetNode, unit_view

# --- The unit as a tree -----------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """A target as both formats list it, with the items nested under it."""

    key: str  # the reference without spaces, unique in the unit: "1.1", "E2", "KE12.10.2"
    ref: str  # what people call it: "1.1", "E2", "KE 12.10.2"
    text: str
    children: tuple[Item, ...] = ()

    def walk(self) -> Iterator[tuple[Item, Item | None]]:
        """This item and everything under it, each with its parent, parents first."""
        yield self, None
        for child in self.children:
            for item, parent in child.walk():
                yield item, parent or self


@dataclass(frozen=True)
class Section:
    """An element, a NOS's criteria, the performance or the knowledge evidence.

    A standard in Mahara. In Moodle a competency of the first level, except a NOS's criteria,
    which sit under the framework itself (``key`` None).
    """

    key: str | None  # "E1", "PE", "KE"
    label: str  # "Element 1", "Performance criteria", "Performance evidence"
    title: str  # an element's title; else the label
    paragraphs: tuple[str, ...]  # what the published text says about it
    items: tuple[Item, ...]
    # An element published without criteria is itself what evidence is mapped to.
    own: Item | None = None


@dataclass(frozen=True)
class Outline:
    code: str
    release: int
    title: str
    application: tuple[str, ...]
    sections: tuple[Section, ...]


def _item(target: Target, children: tuple[Item, ...] = ()) -> Item:
    return Item(target.ref.replace(" ", ""), target.ref, target.text, children)


def _tree(nodes: Sequence[TargetNode]) -> tuple[Item, ...]:
    return tuple(_item(node.target, _tree(node.children)) for node in nodes)


def unit_outline(release: UnitRelease) -> Outline:
    """A release, with its elements and targets loaded, as the tree both formats take."""
    view = unit_view(release)
    nos = release.framework is Framework.NOS
    sections: list[Section] = []
    for element_view in view.elements:
        element = element_view.element
        own = next((_item(t) for t in element_view.targets if t.kind is TargetKind.ELEMENT), None)
        criteria = tuple(
            _item(t) for t in element_view.targets if t.kind is TargetKind.PERFORMANCE_CRITERION
        )
        sections.append(
            Section(
                key=f"E{element.number}",
                label=f"Element {element.number}",
                title=element.title,
                paragraphs=(element.title,),
                items=criteria,
                own=own,
            )
        )
    if view.criteria:
        sections.append(
            Section(
                key=None,
                label="Performance criteria",
                title="Performance criteria",
                paragraphs=(release.criteria_intro,) if release.criteria_intro else (),
                items=tuple(_item(t) for t in view.criteria),
            )
        )
    for key, label, nodes, intro, notes in (
        (
            "PE",
            "Performance evidence",
            view.performance_evidence,
            release.performance_evidence_intro,
            release.performance_evidence_notes,
        ),
        (
            "KE",
            "Knowledge and understanding" if nos else "Knowledge evidence",
            view.knowledge_evidence,
            release.knowledge_evidence_intro,
            release.knowledge_evidence_notes,
        ),
    ):
        if nodes:
            paragraphs = ((intro,) if intro else ()) + tuple(notes or ())
            sections.append(Section(key, label, label, paragraphs, _tree(nodes)))
    return Outline(
        code=release.unit.code,
        release=release.release,
        title=release.title,
        application=tuple(release.application or ()),
        sections=tuple(sections),
    )


def shorten(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters: cut at a word, with an ellipsis, if too long."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + "…"


def _html(paragraphs: Sequence[str]) -> str:
    return "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs if p)


# --- Moodle -----------------------------------------------------------------------------------

# tool_lpimportcsv's lang strings, in the order of framework_importer::list_required_headers().
MOODLE_COLUMNS: tuple[str, ...] = (
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
)

# Moodle's own "Default competence scale" has these two items; the importer reuses a site scale
# with the same items (or makes one), so a site that has it gets no new scale.
SCALE_VALUES = "Not yet competent,Competent"
# Items are numbered from 1 in the order of SCALE_VALUES; Competent is the default (what a rule
# awards) and the only proficient value. The first object names the scale; the importer puts the
# site's own id there. 2 is that of the default competence scale on a new site.
SCALE_CONFIGURATION = json.dumps(
    [
        {"scaleid": "2"},
        {"id": 1, "scaledefault": 0, "proficient": 0},
        {"id": 2, "scaledefault": 1, "proficient": 1},
    ],
    separators=(",", ":"),
)
FORMAT_HTML = "1"
# The first level holds the elements (and the evidence sections); every level under it holds
# what shows the competency: criteria and evidence items.
FIRST_LEVEL, LOWER_LEVELS = "competency", "indicator"
MOODLE_TEXT_LIMIT = 100  # short names and ID numbers


def moodle_idnumber(outline: Outline, key: str | None = None) -> str:
    """The framework's ID number ("TLII5018-r1": unique on a Moodle site, so one per release),
    or a competency's ("TLII5018-1.1", "TLII5018-KE6.2": the same in every release, which is
    what Moodle's *Migrate frameworks* matches competencies by)."""
    return f"{outline.code}-{key}" if key else f"{outline.code}-r{outline.release}"


def _competency(parent: str, idnumber: str, shortname: str, description: str) -> list[str]:
    """A competency row: its own scale is the framework's, no rule, no cross-references."""
    rule = ["", "0", "null"]  # as Moodle writes a competency without a rule
    return [parent, idnumber, shortname, description, FORMAT_HTML, "", "", *rule, "", "", "", ""]


def moodle_rows(outline: Outline) -> list[list[str]]:
    """The framework row, then every competency after its parent, in the order of the unit."""
    competencies: list[list[str]] = []
    depth = 1

    def add_items(items: Sequence[Item], parent: str, level: int) -> None:
        nonlocal depth
        for item in items:
            idnumber = moodle_idnumber(outline, item.key)
            shortname = shorten(f"{item.ref} {item.text}", MOODLE_TEXT_LIMIT)
            competencies.append(_competency(parent, idnumber, shortname, _html([item.text])))
            depth = max(depth, level)
            add_items(item.children, idnumber, level + 1)

    for section in outline.sections:
        if section.key is None:
            add_items(section.items, "", 1)
            continue
        idnumber = moodle_idnumber(outline, section.key)
        name = section.label
        if section.title != section.label:
            name = f"{section.label} {section.title}"  # "Element 1 Plan to meet ..."
        competencies.append(
            _competency("", idnumber, shorten(name, MOODLE_TEXT_LIMIT), _html(section.paragraphs))
        )
        add_items(section.items, idnumber, 2)

    taxonomies = ",".join([FIRST_LEVEL] + [LOWER_LEVELS] * (depth - 1))
    framework = [
        "",
        moodle_idnumber(outline),
        shorten(f"{outline.code} {outline.title}", MOODLE_TEXT_LIMIT),
        _html(outline.application),
        FORMAT_HTML,
        SCALE_VALUES,
        SCALE_CONFIGURATION,
        "",
        "",
        "",
        "",
        "",
        "1",
        taxonomies,
    ]
    return [framework, *competencies]


def moodle_csv(release: UnitRelease) -> str:
    """The release as a Moodle competency framework CSV (UTF-8 text, CRLF line ends).

    Every cell goes through ``excel_safe``, as the outcomes register's do: an RTO is as likely
    to open the file in a spreadsheet as to import it.
    """
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(MOODLE_COLUMNS)
    for row in moodle_rows(unit_outline(release)):
        writer.writerow([excel_safe(cell) for cell in row])
    return out.getvalue()


# --- Mahara -----------------------------------------------------------------------------------

MAHARA_SHORTNAME_LIMIT = 100
MAHARA_NAME_LIMIT = 255
# The four statuses of a SmartEvidence annotation, in the words an assessor here uses.
EVIDENCE_STATUSES = (
    {"begun": "Ready for assessment"},
    {"incomplete": "Not yet satisfactory"},
    {"partialcomplete": "Partially satisfactory"},
    {"completed": "Satisfactory"},
)


def mahara_matrix(release: UnitRelease) -> dict[str, Any]:
    """The release as a Mahara SmartEvidence framework: ``json.dumps`` it into a .matrix file.

    One standard per element (for a NOS, one for its criteria) and one each for the
    performance and the knowledge evidence; their items are the standard elements, a nested
    item naming its parent by ``parentelementid``. Parents come before their children.
    """
    outline = unit_outline(release)
    standards: list[dict[str, Any]] = []
    elements: list[dict[str, Any]] = []
    for standardid, section in enumerate(outline.sections, start=1):
        standards.append(
            {
                "shortname": shorten(section.label, MAHARA_SHORTNAME_LIMIT),
                "name": shorten(section.title, MAHARA_NAME_LIMIT),
                "description": _html(section.paragraphs),
                "standardid": standardid,
            }
        )
        items = section.items or ((section.own,) if section.own else ())
        for top in items:
            for item, parent in top.walk():
                element = {
                    "shortname": shorten(item.ref, MAHARA_SHORTNAME_LIMIT),
                    "name": shorten(item.text, MAHARA_NAME_LIMIT),
                    "description": _html([item.text]),
                    "standardid": standardid,
                    "elementid": item.key,
                }
                if parent is not None:
                    element["parentelementid"] = parent.key
                elements.append(element)
    return {
        "framework": {
            "institution": "all",
            "name": shorten(
                f"{outline.code} {outline.title} (release {outline.release})", MAHARA_NAME_LIMIT
            ),
            "description": _html(outline.application),
            "selfassess": False,
            "evidencestatuses": [dict(status) for status in EVIDENCE_STATUSES],
            "standards": standards,
            "standardelements": elements,
        }
    }


def mahara_json(release: UnitRelease) -> str:
    """``mahara_matrix`` as the text of a .matrix file (UTF-8, characters kept as they are)."""
    return json.dumps(mahara_matrix(release), ensure_ascii=False, indent=2) + "\n"
