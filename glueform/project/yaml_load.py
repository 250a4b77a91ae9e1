"""YAML that keeps its line marks and rejects duplicate keys.

The loaded value is plain dicts/lists/scalars; a side table maps each JSON path (tuple of keys and
indexes) to the 1-based (line, col) where it was written, so schema and model errors can point
back into the file. Jinja is never rendered over YAML text (that would lose the marks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from glueform.errors import SourceLocation, UserError, snippet_at

try:  # the C composer is several times faster; fall back where libyaml is missing
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

PathKey = tuple[Any, ...]


@dataclass
class YamlDoc:
    """A loaded YAML file: its data and where each part of it was written."""

    path: Path
    text: str
    data: Any
    marks: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def location(self, at: PathKey = (), key: bool = False) -> SourceLocation:
        """The location of the value at ``at`` (or of its key), or the nearest enclosing one."""
        table = self.key_marks if key else self.marks
        probe = tuple(at)
        while probe not in table and probe:
            probe = probe[:-1]
        line, col = table.get(probe, self.marks.get((), (1, 1)))
        return SourceLocation(self.path, line, col)


def load_yaml(path: Path, text: str | None = None) -> YamlDoc:
    """Parse one YAML file; syntax errors and duplicate keys become :class:`UserError`."""
    if text is None:
        text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise UserError(
            f"invalid YAML: {exc.problem or exc.context}",
            SourceLocation(path, line, col),
            hint="check indentation, colons and quoting near this line",
            snippet=snippet_at(text, line, col),
        ) from None
    doc = YamlDoc(path, text, None)
    doc.data = {} if node is None else _Builder(doc).build(node, ())
    return doc


class _Builder:
    """Turns a composed node tree into plain values, recording marks and refusing duplicates."""

    def __init__(self, doc: YamlDoc) -> None:
        self.doc = doc
        self.constructor = yaml.SafeLoader("")  # resolves scalar tags (int, bool, dates)

    def build(self, node: yaml.Node, at: PathKey) -> Any:
        doc = self.doc
        doc.marks[at] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, at)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*at, i)) for i, item in enumerate(node.value)]
        return self.constructor.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, at: PathKey) -> dict[Any, Any]:
        doc = self.doc
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                raise UserError(
                    "a mapping key must be a plain value (merge keys << are not supported)",
                    _mark(doc, key_node),
                    hint="write the keys out",
                )
            key = self.constructor.construct_object(key_node)
            line = key_node.start_mark.line + 1
            if key in out:
                first = doc.key_marks[(*at, key)]
                raise UserError(
                    f"duplicate key '{key}' (first written at line {first[0]})",
                    _mark(doc, key_node),
                    hint="remove one of the two; YAML would silently keep only the last",
                    snippet=snippet_at(
                        doc.text, line, key_node.start_mark.column + 1, len(str(key))
                    ),
                )
            doc.key_marks[(*at, key)] = (line, key_node.start_mark.column + 1)
            out[key] = self.build(value_node, (*at, key))
        return out


def _mark(doc: YamlDoc, node: yaml.Node) -> SourceLocation:
    return SourceLocation(doc.path, node.start_mark.line + 1, node.start_mark.column + 1)
