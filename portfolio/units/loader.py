"""Read and check unit files. Pure: touches no database, collects every problem it finds."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from portfolio.units.schema import UnitDocument

FILENAME = re.compile(r"^(?P<code>[A-Za-z0-9]+)(?:\.r(?P<release>[0-9]+))?\.ya?ml$")
CRITERION_RANGE = re.compile(r"^(?P<start>\d+\.\d+)\s*[-–]\s*(?P<end>\d+\.\d+)$")

Path_ = tuple[str | int, ...]


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a unit file, located as precisely as the file allows."""

    file: str
    line: int | None
    path: str
    reason: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path or '(file)'}: {self.reason}"


@dataclass
class LoadedUnit:
    document: UnitDocument
    file: str
    content_sha256: str


@dataclass
class LoadResult:
    units: list[LoadedUnit] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def format_path(path: Path_) -> str:
    """``('elements', 1, 'criteria', 0, 'text')`` -> ``elements[1].criteria[0].text``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def content_sha256(document: UnitDocument) -> str:
    """A hash of what the file says, indifferent to YAML layout and comments."""
    canonical = json.dumps(document.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


#: How deep a unit file's values may nest: its deepest, a list nested nine levels (as deep as
#: Word's lists go), is some twenty mappings and lists down.
DEEPEST_NODE = 64


class _PlainLoader(yaml.SafeLoader):
    """YAML without aliases: a unit file has no use for them, and a few hundred bytes of
    nested aliases expand to billions of nodes (the "billion laughs"). Nor nested past
    ``DEEPEST_NODE``: PyYAML reads nesting by recursion, which a deep enough file exhausts."""

    depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.get_event()
            raise yaml.composer.ComposerError(
                None,
                None,
                f"aliases (*{event.anchor}) are not allowed in a unit file; write the value out",
                event.start_mark,
            )
        if self.depth >= DEEPEST_NODE:
            raise yaml.composer.ComposerError(
                None,
                None,
                f"values nested more than {DEEPEST_NODE} levels deep; a unit file's lists go "
                "a few levels down",
                self.peek_event().start_mark,
            )
        self.depth += 1
        try:
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self.depth -= 1


def load_text(text: str, file: str) -> LoadResult:
    """Parse and check the text of one unit file named ``file``."""
    result = LoadResult()
    try:
        loader = _PlainLoader(text)
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        reason = f"not valid YAML: {error.problem or error.context}"
        result.problems.append(Problem(file, line, "", reason))
        return result
    except yaml.YAMLError as error:
        result.problems.append(Problem(file, None, "", f"not valid YAML: {error}"))
        return result

    if not isinstance(data, dict):
        line = root.start_mark.line + 1 if root is not None else None
        result.problems.append(Problem(file, line, "", "a unit file must be a mapping of fields"))
        return result

    result.problems.extend(_duplicate_keys(root, file))
    try:
        document = UnitDocument.model_validate(data)
    except ValidationError as error:
        for issue in error.errors():
            path = tuple(issue["loc"])
            reason = _reason(issue)
            result.problems.append(Problem(file, _line_of(root, path), format_path(path), reason))
        return result

    for path, reason in _check_meaning(document, Path(file).name):
        result.problems.append(Problem(file, _line_of(root, path), format_path(path), reason))
    if not result.problems:
        result.units.append(LoadedUnit(document, file, content_sha256(document)))
    return result


def load_files(paths: Iterable[Path]) -> LoadResult:
    """Load the named files; two files may not give the same code and release."""
    result = LoadResult()
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            result.problems.append(Problem(str(path), None, "", f"cannot be read: {error}"))
            continue
        one = load_text(text, str(path))
        result.units.extend(one.units)
        result.problems.extend(one.problems)

    seen: dict[tuple[str, int], str] = {}
    for unit in result.units:
        key = (unit.document.code, unit.document.release)
        if key in seen:
            reason = f"{key[0]} release {key[1]} is already given by {seen[key]}"
            result.problems.append(Problem(unit.file, None, "release", reason))
        else:
            seen[key] = unit.file
    result.problems.sort()
    return result


def unit_files(directory: Path) -> list[Path]:
    """The unit files in a folder, in a stable order."""
    return sorted(p for p in directory.iterdir() if p.suffix in {".yaml", ".yml"} and p.is_file())


def load_directory(directory: Path) -> LoadResult:
    if not directory.is_dir():
        return LoadResult(problems=[Problem(str(directory), None, "", "no such folder")])
    return load_files(unit_files(directory))


def expand_criterion_refs(refs: Sequence[str], numbers: Sequence[str]) -> list[str] | str:
    """Expand ``["1.1", "3.1-3.5"]`` against the unit's criterion numbers, or say what's wrong."""
    known = list(numbers)
    expanded: list[str] = []
    for ref in refs:
        match = CRITERION_RANGE.match(ref)
        if match:
            start, end = match["start"], match["end"]
            if start not in known or end not in known or known.index(start) > known.index(end):
                return f"{ref!r} is not a range of this unit's performance criteria"
            expanded.extend(known[known.index(start) : known.index(end) + 1])
        elif ref in known:
            expanded.append(ref)
        else:
            return f"{ref!r} names no performance criterion of this unit"
    return expanded


def _reason(issue: Any) -> str:
    kind, value = issue["type"], issue.get("input")
    if kind == "string_type" and isinstance(value, int | float):
        return f"write {value!r} as a quoted string (YAML reads 1.10 as the number 1.1)"
    if kind == "extra_forbidden":
        return "unknown field (see units/README.md for the fields a unit file has)"
    if kind == "missing":
        return "required field is missing"
    if kind == "string_pattern_mismatch":
        return f"{value!r} is not a unit code (capital letters and digits, e.g. TLII5018)"
    return str(issue["msg"])


def _check_meaning(document: UnitDocument, filename: str) -> Iterator[tuple[Path_, str]]:
    """What the schema cannot say: numbering, references, and the file's name."""
    match = FILENAME.match(filename)
    if match is None:
        yield ("code",), f"file name {filename!r} should be {document.code}.yaml"
    else:
        if match["code"] != document.code:
            yield ("code",), f"code {document.code} does not match the file name {filename!r}"
        if match["release"] and int(match["release"]) != document.release:
            yield ("release",), f"release {document.release} does not match the file name"

    if not document.elements and not document.criteria:
        yield ("elements",), "a unit needs elements, or criteria where it has no elements"
    if document.elements and document.criteria:
        yield ("criteria",), "criteria outside elements are only for a unit without elements"

    for e, element in enumerate(document.elements):
        if element.number != str(e + 1):
            yield (
                ("elements", e, "number"),
                f"expected element number {e + 1}, found {element.number!r}",
            )
        for c, criterion in enumerate(element.criteria):
            expected = f"{e + 1}.{c + 1}"
            if criterion.number != expected:
                path = ("elements", e, "criteria", c, "number")
                yield path, f"expected criterion number {expected}, found {criterion.number!r}"
    for c, criterion in enumerate(document.criteria):
        if criterion.number != str(c + 1):
            yield (
                ("criteria", c, "number"),
                f"expected criterion number {c + 1}, found {criterion.number!r}",
            )

    if document.foundation_skills:
        numbers = [c.number for c in document.all_criteria()]
        for s, skill in enumerate(document.foundation_skills.skills):
            expanded = expand_criterion_refs(skill.criteria, numbers)
            if isinstance(expanded, str):
                yield ("foundation_skills", "skills", s, "criteria"), expanded


def _line_of(node: yaml.Node | None, path: Path_) -> int | None:
    """The line of the deepest node of ``path`` that the YAML actually has."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in path:
        child = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            child = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if part < len(node.value) else None
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


def _duplicate_keys(node: yaml.Node, file: str, path: Path_ = ()) -> Iterator[Problem]:
    """YAML quietly keeps the last of two equal keys; a transcription error we want to hear of."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if key.value in seen:
                reason = f"field {key.value!r} is given twice"
                yield Problem(file, key.start_mark.line + 1, format_path(path), reason)
            seen.add(key.value)
            yield from _duplicate_keys(value, file, (*path, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for index, value in enumerate(node.value):
            yield from _duplicate_keys(value, file, (*path, index))
