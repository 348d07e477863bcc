"""A unit written out in the layouts RTOs paste into the importer, for round-trip tests.

Each function takes a unit file's document and writes the text one kind of source gives:
the Markdown a converter makes of training.gov.au's "Complete" Word file (pipe tables, ``<br>``
inside cells, ``#`` headings), a Markdown copy made by hand, and a plain-text dump whose
sections come in any order. Reading any of them back must give the same unit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from portfolio.units.schema import Criterion, EvidenceSection, ListItem, UnitDocument

Section = tuple[str, list[str]]


#: A list's bullet, or each level's (Word's text copy shows the level by its symbol).
Bullet = str | tuple[str, ...]


def _items(items: Iterable[ListItem], bullet: Bullet, indent: str, depth: int = 0) -> list[str]:
    lines: list[str] = []
    for item in items:
        mark = bullet if isinstance(bullet, str) else bullet[min(depth, len(bullet) - 1)]
        lines.append(f"{indent * depth}{mark}{item.text}")
        lines += _items(item.items, bullet, indent, depth + 1)
    return lines


def _evidence(section: EvidenceSection, bullet: Bullet, indent: str) -> list[str]:
    lines = [section.intro] if section.intro else []
    lines += _items(section.items, bullet, indent)
    return lines + list(section.notes)


def _sections(
    doc: UnitDocument,
    *,
    elements: Callable[[UnitDocument], list[str]],
    skills: Callable[[UnitDocument], list[str]],
    ranges: Callable[[UnitDocument], list[str]],
    bullet: Bullet,
    indent: str,
) -> list[Section]:
    """The unit's sections under training.gov.au's names, in its order."""
    out: list[Section] = []
    if doc.application:
        out.append(("Application", list(doc.application)))
    if doc.competency_field:
        out.append(("Competency Field", [doc.competency_field]))
    if doc.sector:
        out.append(("Unit Sector", [doc.sector]))
    out.append(("Elements and Performance Criteria", elements(doc)))
    if doc.foundation_skills:
        out.append(("Foundation Skills", skills(doc)))
    if doc.range_statement:
        out.append(("Range of Conditions", ranges(doc)))
    for name, section in (
        ("Performance Evidence", doc.performance_evidence),
        ("Knowledge Evidence", doc.knowledge_evidence),
    ):
        if section:
            out.append((name, _evidence(section, bullet, indent)))
    if doc.assessment_conditions:
        out.append(("Assessment Conditions", _items(doc.assessment_conditions, bullet, indent)))
    return out


def _header(doc: UnitDocument) -> list[str]:
    lines = [f"Release: {doc.release}"]
    if doc.band:
        lines.append(f"Band: {doc.band}")
    if doc.unit_weight:
        lines.append(f"Unit Weight: {doc.unit_weight}")
    return lines


def _cell(lines: Iterable[str]) -> str:
    return "<br>".join(lines)


def _table_elements(doc: UnitDocument) -> list[str]:
    rows = [
        "| ELEMENTS | PERFORMANCE CRITERIA |",
        "| --- | --- |",
        "| Elements describe the essential outcomes. | Performance criteria describe the "
        "performance needed to demonstrate achievement of the element. |",
    ]
    for element in doc.elements:
        criteria = _cell(
            line for c in element.criteria for line in _criterion(c, bullet="• ", indent="  ")
        )
        rows.append(f"| {element.number}. {element.title} | {criteria} |")
    return rows


def _criterion(criterion: Criterion, *, bullet: Bullet, indent: str, depth: int = 0) -> list[str]:
    """A criterion's number and text on a line, and the list it leads a level below."""
    return [
        f"{criterion.number} {criterion.text}",
        *_items(criterion.items, bullet, indent, depth + 1),
    ]


def _table_skills(doc: UnitDocument) -> list[str]:
    skills = doc.foundation_skills
    assert skills is not None
    lines = list(skills.intro)
    if not skills.skills:
        return lines
    refs = any(skill.criteria for skill in skills.skills)
    lines += (
        ["| Skill | Performance Criteria | Description |", "| --- | --- | --- |"]
        if refs
        else ["| Skill | Description |", "| --- | --- |"]
    )
    for skill in skills.skills:
        descriptions = _cell(f"• {d}" for d in skill.descriptions)
        middle = f" {', '.join(skill.criteria)} |" if refs else ""
        lines.append(f"| {skill.skill} |{middle} {descriptions} |")
    return lines


def _table_ranges(doc: UnitDocument) -> list[str]:
    statement = doc.range_statement
    assert statement is not None
    lines = list(statement.intro)
    for entry in statement.entries:
        lines.append(f"| {entry.term} | {_cell(_items(entry.values, '• ', ''))} |")
    return lines


def tga_markdown(doc: UnitDocument) -> str:
    """What a Markdown converter makes of training.gov.au's "Complete" Word file."""
    title = f"{doc.code} {doc.title}"
    history = [
        "| Release | Comments |",
        "| --- | --- |",
        f"| Release {doc.release} | This version released with the training package. |",
    ]
    out = [f"# {title}", "", *_header(doc), "", f"**{title}**", "", "## Modification History", ""]
    out += [*history, ""]
    for heading, lines in _sections(
        doc,
        elements=_table_elements,
        skills=_table_skills,
        ranges=_table_ranges,
        bullet="- ",
        indent="  ",
    ):
        if heading == "Performance Evidence":
            out += [f"# Assessment Requirements for {title}", "", "## Modification History"]
            out += ["", *history, ""]
        out += [f"## {heading}", "", *lines, ""]
    out += ["## Links", "", "Companion Volume Implementation Guide is found on VETNet."]
    return "\n".join(out) + "\n"


def _heading_elements(doc: UnitDocument) -> list[str]:
    lines: list[str] = []
    for element in doc.elements:
        lines.append(f"### {element.number}. {element.title}")
        for criterion in element.criteria:
            first, *listed = _criterion(criterion, bullet="- ", indent="  ")
            lines += [f"- {first}", *listed]
    return lines


def _listed_ranges(bullet: str, indent: str) -> Callable[[UnitDocument], list[str]]:
    def ranges(doc: UnitDocument) -> list[str]:
        statement = doc.range_statement
        assert statement is not None
        lines = list(statement.intro)
        for entry in statement.entries:
            lines += [entry.term, *_items(entry.values, bullet, indent, 1)]
        return lines

    return ranges


def handmade_markdown(doc: UnitDocument) -> str:
    """A Markdown copy typed up by hand: headings of several levels, bullets, indented lists."""
    out = [f"# {doc.code} - {doc.title}", "", *_header(doc), ""]
    for heading, lines in _sections(
        doc,
        elements=_heading_elements,
        skills=_table_skills,
        ranges=_listed_ranges("* ", "    "),
        bullet="* ",
        indent="    ",
    ):
        out += [f"## {heading}", "", *lines, ""]
    return "\n".join(out) + "\n"


def _numbers_alone(doc: UnitDocument) -> list[str]:
    lines: list[str] = []
    for element in doc.elements:
        lines += [element.number, element.title]
        for criterion in element.criteria:
            lines += [criterion.number, criterion.text]
            lines += _items(criterion.items, "• ", "  ", 1)
    return lines


def _tab_skills(doc: UnitDocument) -> list[str]:
    skills = doc.foundation_skills
    assert skills is not None
    lines = list(skills.intro)
    if skills.skills:
        lines.append("Skill\tPerformance Criteria\tDescription")
    for skill in skills.skills:
        lines += [skill.skill, ", ".join(skill.criteria), *skill.descriptions]
    return lines


def plain_text(
    doc: UnitDocument,
    order: Callable[[list[Section]], list[Section]] | None = None,
    bullet: Bullet = "• ",
    indent: str = "  ",
) -> str:
    """A plain-text dump from an RTO's tool, its sections in the unit's order or as ``order``
    puts them; numbers on lines of their own, lists bulleted and indented."""
    sections = _sections(
        doc,
        elements=_numbers_alone,
        skills=_tab_skills,
        ranges=_listed_ranges("• ", "  "),
        bullet=bullet,
        indent=indent,
    )
    if order is not None:
        sections = order(sections)
    out = [doc.code, doc.title, *_header(doc), ""]
    for heading, lines in sections:
        out += [heading, "", *lines, ""]
    return "\n".join(out) + "\n"


def word_text_copy(doc: UnitDocument) -> str:
    """The unit copied out of Word as text: its lists' levels shown by Word's bullet symbols
    ("•", "o", "§", each then a tab), not by indentation."""
    return plain_text(doc, bullet=("\u2022\t", "o\t", "\u00a7\t"), indent="")


LAYOUTS: dict[str, Callable[[UnitDocument], str]] = {
    "training.gov.au Word file as Markdown": tga_markdown,
    "hand-made Markdown": handmade_markdown,
    "plain text": plain_text,
    "Word's text copy": word_text_copy,
}


def texts_of(doc: UnitDocument) -> list[str]:
    """Every piece of text a unit holds, for checking that each came from its source."""
    out = [doc.title, *doc.application]
    out += [x for x in (doc.band, doc.competency_field, doc.sector, doc.criteria_intro) if x]

    def items(found: Iterable[ListItem]) -> list[str]:
        return [x for item in found for x in (item.text, *items(item.items))]

    for element in doc.elements:
        out += [element.title, *(x for c in element.criteria for x in (c.text, *items(c.items)))]
    out += [c.text for c in doc.criteria]

    for section in (doc.performance_evidence, doc.knowledge_evidence):
        if section:
            out += [*([section.intro] if section.intro else []), *items(section.items)]
            out += section.notes
    out += items(doc.assessment_conditions)
    if doc.foundation_skills:
        out += doc.foundation_skills.intro
        for skill in doc.foundation_skills.skills:
            out += [skill.skill, *skill.descriptions]
    if doc.range_statement:
        out += doc.range_statement.intro
        for entry in doc.range_statement.entries:
            out += [entry.term, *items(entry.values)]
    return out


def tga_word(doc: UnitDocument, numbered: bool = False) -> bytes:
    """training.gov.au's "Complete" Word file as python-docx writes one: headings, the elements
    and foundation skills tables, list paragraphs styled "List Bullet", "List Bullet 2", ...
    for their level (no bullet characters in the text). ``numbered``: an RTO's copy instead,
    whose elements, criteria and evidence lists are numbered by Word's list numbering, not
    typed (the numbers are in no paragraph's text)."""
    import io

    import docx

    word = docx.Document()
    word.add_paragraph(f"{doc.code} {doc.title}", style="Title")
    for line in _header(doc):
        word.add_paragraph(line)

    lists = iter(range(100, 200))

    def listed(cell_or_doc, items: Iterable[ListItem], depth: int = 0, num_id: int = 0) -> None:
        if numbered and depth == 0:
            num_id = word_list(word, next(lists), EVIDENCE)
        for item in items:
            if numbered:
                listed_in(cell_or_doc, item.text, num_id, depth)
            else:
                style = "List Bullet" if depth == 0 else f"List Bullet {depth + 1}"
                cell_or_doc.add_paragraph(item.text, style=style)
            listed(cell_or_doc, item.items, depth + 1, num_id)

    def table(rows: list[list[list[str] | str]], bullets: bool = False):
        grid = word.add_table(rows=len(rows), cols=len(rows[0]))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                cell = grid.cell(r, c)
                lines = [value] if isinstance(value, str) else value
                cell.text = lines[0] if lines else ""
                for line in lines[1:]:
                    cell.add_paragraph(line, style="List Bullet" if bullets else None)
        return grid

    def section(heading: str) -> None:
        word.add_heading(heading, 2)

    for name, text in (("Application", None), ("Competency Field", doc.competency_field)):
        if name == "Application" and doc.application:
            section(name)
            for paragraph in doc.application:
                word.add_paragraph(paragraph)
        elif text:
            section(name)
            word.add_paragraph(text)
    if doc.sector:
        section("Unit Sector")
        word.add_paragraph(doc.sector)
    section("Elements and Performance Criteria")
    rows: list[list[list[str] | str]] = [
        ["ELEMENTS", "PERFORMANCE CRITERIA"],
        [
            "Elements describe the essential outcomes.",
            "Performance criteria describe the "
            "performance needed to demonstrate achievement of the element.",
        ],
    ]
    grid = table(rows)
    elements = word_list(word, 99, ELEMENTS)
    for element in doc.elements:
        cells = grid.add_row().cells
        criteria = cells[1]
        criteria.paragraphs[0]._p.getparent().remove(criteria.paragraphs[0]._p)
        if numbered:
            listed_in(cells[0], element.title, elements, 0)
            cells[0].paragraphs[0]._p.getparent().remove(cells[0].paragraphs[0]._p)
        else:
            cells[0].text = f"{element.number}. {element.title}"
        for criterion in element.criteria:
            if numbered:
                listed_in(criteria, criterion.text, elements, 1)
            else:
                criteria.add_paragraph(f"{criterion.number} {criterion.text}")
            # A criterion's own list is bulleted, in the numbered copy too.
            for item in criterion.items:
                criteria.add_paragraph(item.text, style="List Bullet 2")
    if doc.foundation_skills:
        section("Foundation Skills")
        for paragraph in doc.foundation_skills.intro:
            word.add_paragraph(paragraph)
        if doc.foundation_skills.skills:
            grid = word.add_table(rows=1, cols=3)
            for c, heading in enumerate(["Skill", "Performance Criteria", "Description"]):
                grid.cell(0, c).text = heading
            for skill in doc.foundation_skills.skills:
                cells = grid.add_row().cells
                cells[0].text, cells[1].text = skill.skill, ", ".join(skill.criteria)
                cells[2].text = ""
                first = cells[2].paragraphs[0]
                for n, description in enumerate(skill.descriptions):
                    paragraph = first if n == 0 else cells[2].add_paragraph()
                    paragraph.text, paragraph.style = description, word.styles["List Bullet"]
    if doc.range_statement:
        section("Range of Conditions")
        for paragraph in doc.range_statement.intro:
            word.add_paragraph(paragraph)
        if doc.range_statement.entries:
            grid = word.add_table(rows=0, cols=2)
            for entry in doc.range_statement.entries:
                cells = grid.add_row().cells
                cells[0].text = entry.term
                listed(cells[1], entry.values)
    word.add_paragraph(f"Assessment Requirements for {doc.code} {doc.title}", style="Title")
    for name, evidence in (
        ("Performance Evidence", doc.performance_evidence),
        ("Knowledge Evidence", doc.knowledge_evidence),
    ):
        if evidence:
            section(name)
            if evidence.intro:
                word.add_paragraph(evidence.intro)
            listed(word, evidence.items)
            for note in evidence.notes:
                word.add_paragraph(note)
    if doc.assessment_conditions:
        section("Assessment Conditions")
        listed(word, doc.assessment_conditions)
    section("Links")
    word.add_paragraph("Companion Volume Implementation Guide is found on VETNet.")
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()


#: A level of a Word list: its number format, the text shown (``%1.%2``), its first number.
Level = tuple[str, str, int]
BULLETS: list[Level] = [("bullet", "\u2022", 1)] * 9
#: A unit file's own numbering, made by Word's numbering instead of typed: elements, criteria.
ELEMENTS: list[Level] = [("decimal", "%1.", 1), ("decimal", "%1.%2", 1)]
#: An evidence list numbered by Word: numbers, letters under them, Roman numerals below.
EVIDENCE: list[Level] = [
    ("decimal", "%1.", 1),
    ("lowerLetter", "%2)", 1),
    ("lowerRoman", "(%3)", 1),
]


def word_list(
    word,
    num_id: int,
    levels: list[Level],
    *,
    start_over: dict[int, int] | None = None,
    same_as: int | None = None,
) -> int:
    """Defines a list in ``word``'s numbering (its levels, or those of list ``same_as``,
    restarting the levels in ``start_over`` at the numbers given) and returns its id."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    numbering = word.part.numbering_part.element
    if same_as is None:
        lvls = "".join(
            f'<w:lvl w:ilvl="{n}"><w:start w:val="{start}"/><w:numFmt w:val="{fmt}"/>'
            f'<w:lvlText w:val="{text}"/><w:lvlJc w:val="left"/>'
            f'<w:pPr><w:ind w:left="{360 * (n + 1)}" w:hanging="360"/></w:pPr></w:lvl>'
            for n, (fmt, text, start) in enumerate(levels)
        )
        numbering.insert(
            0,
            parse_xml(
                f'<w:abstractNum {nsdecls("w")} w:abstractNumId="{num_id}">'
                f'<w:multiLevelType w:val="multilevel"/>{lvls}</w:abstractNum>'
            ),
        )
    overrides = "".join(
        f'<w:lvlOverride w:ilvl="{n}"><w:startOverride w:val="{start}"/></w:lvlOverride>'
        for n, start in (start_over or {}).items()
    )
    definition = num_id if same_as is None else same_as
    numbering.append(
        parse_xml(
            f'<w:num {nsdecls("w")} w:numId="{num_id}">'
            f'<w:abstractNumId w:val="{definition}"/>{overrides}</w:num>'
        )
    )
    return num_id


def listed_in(container, text: str, num_id: int, level: int, style: str | None = None):
    """A paragraph of ``text`` in list ``num_id`` at ``level`` (from 0), added to a document
    or a table cell."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    paragraph = container.add_paragraph(text, style=style)
    paragraph._p.get_or_add_pPr().append(
        parse_xml(
            f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{level}"/>'
            f'<w:numId w:val="{num_id}"/></w:numPr>'
        )
    )
    return paragraph


def word_from_markdown(text: str, lists: str = "numbering", breaks: bool = False) -> bytes:
    """The Word file a converter's Markdown was made from, rebuilt: a ``#`` heading a
    "Heading 1" paragraph, a pipe table a table (each ``<br>`` a paragraph of its cell, or with
    ``breaks`` a line break in one paragraph), a bullet a list paragraph of its level (two
    spaces a level). ``lists`` says how the file shows a bullet's level: by its own numbering
    ("numbering", as training.gov.au's files and the converter's bullets show) or by its
    paragraph style ("styles": "List Bullet 2", ...)."""
    import io

    import docx

    word = docx.Document()
    bullets = word_list(word, 90, BULLETS)

    def add(container, line: str) -> None:
        bullet = re.match(r"^( *)- (.*)$", line)
        if not bullet:
            container.add_paragraph(line)
            return
        level, item = len(bullet.group(1)) // 2, bullet.group(2)
        if lists == "styles":
            container.add_paragraph(item, style="List Bullet" + (f" {level + 1}" if level else ""))
            return
        listed_in(container, item, bullets, level, style="List Paragraph")

    rows: list[list[str]] = []

    def flush() -> None:
        if not rows:
            return
        grid = word.add_table(rows=len(rows), cols=len(rows[0]))
        for r, row in enumerate(rows):
            for c, cell_text in enumerate(row):
                cell = grid.cell(r, c)
                plain = None  # the paragraph a line break adds the next plain line to
                for n, line in enumerate(cell_text.split("<br>")):
                    if re.match(r"^ *- ", line):
                        add(cell, line)
                        plain = None
                    elif n == 0:
                        plain = cell.paragraphs[0]
                        plain.text = line
                    elif breaks and plain is not None:
                        plain.add_run().add_break()
                        plain.add_run(line)
                    else:
                        plain = cell.add_paragraph(line)
        rows.clear()

    for line in text.splitlines():
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
            if not all(re.fullmatch(r"-+", cell) for cell in cells):
                rows.append(cells)
            continue
        flush()
        if line.startswith("# "):
            word.add_heading(line[2:], 1)
        elif line.strip():
            add(word, line)
    flush()
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()
