"""YAML that keeps its line marks and rejects duplicate keys.

The loaded value is plain dicts/lists/scalars; a side table maps each JSON path (tuple of keys and
indexes) to the 1-based (line, col) where it was written, so schema and model errors can point
back into the file. Jinja is never rendered over YAML text (that would lose the marks).

A YAML file is untrusted input: aliases may multiply a small text into an enormous value ("billion
laughs"), refer to themselves, or nest without end. The composer keeps an alias as a shared node,
so the cost appears only when the tree is built: the builder counts the nodes it builds through
aliases, refuses an alias that contains itself, and bounds the nesting, each a user error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from glueform.errors import SourceLocation, UserError, snippet_at
from glueform.project.files import read_text

try:  # the C composer is several times faster; fall back where libyaml is missing
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

PathKey = tuple[Any, ...]
MAX_ALIAS_NODES = (
    100_000  # values built through aliases, per file (reused column lists are far fewer)
)
MAX_DEPTH = 64  # levels of nesting (glueform's own files need fewer than 10)


@dataclass
class YamlDoc:
    """A loaded YAML file: its data and where each part of it was written."""

    path: Path
    text: str
    data: Any
    marks: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def data_at(self, at: PathKey) -> Any:
        """The value at ``at`` (a JSON path of keys and indexes)."""
        value = self.data
        for part in at:
            value = value[part]
        return value

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
        text = read_text(path)
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
    except RecursionError:  # the pure-Python composer, where libyaml is missing
        raise UserError(
            f"values nested more than {MAX_DEPTH} levels deep",
            SourceLocation(path, 1, 1),
            hint="glueform's files need only a few levels; flatten this file",
        ) from None
    doc = YamlDoc(path, text, None)
    doc.data = {} if node is None else _Builder(doc).build(node, ())
    return doc


def load_value(text: str, where: str) -> Any:
    """One value written in YAML outside of a file (``--var name=VALUE``), with the same bounds."""
    return load_yaml(Path(where), text).data if text.strip() else ""


class _Builder:
    """Turns a composed node tree into plain values, recording marks and refusing duplicates,
    self-containing aliases and expansions beyond :data:`MAX_ALIAS_NODES`."""

    def __init__(self, doc: YamlDoc) -> None:
        self.doc = doc
        self.constructor = yaml.SafeLoader("")  # resolves scalar tags (int, bool, dates)
        self.built: set[int] = set()  # nodes built once: meeting one again is an alias
        self.open: set[int] = set()  # nodes being built: meeting one of those is a cycle
        self.expanded = 0

    def build(self, node: yaml.Node, at: PathKey, alias: SourceLocation | None = None) -> Any:
        """``alias``: where the alias being expanded was used (None outside of aliases)."""
        doc = self.doc
        if alias is None and (id(node) in self.built or id(node) in self.open):
            alias = doc.location(at, key=True)
        self._check(node, at, alias)
        doc.marks[at] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.ScalarNode):
            self.built.add(id(node))
            return self.constructor.construct_object(node, deep=True)
        self.open.add(id(node))
        if isinstance(node, yaml.MappingNode):
            value: Any = self._mapping(node, at, alias)
        else:
            value = [self.build(item, (*at, i), alias) for i, item in enumerate(node.value)]
        self.open.discard(id(node))
        self.built.add(id(node))
        return value

    def _check(self, node: yaml.Node, at: PathKey, alias: SourceLocation | None) -> None:
        where = alias or self.doc.location(at, key=True)
        if id(node) in self.open:
            raise UserError(
                "an alias refers to the value it is part of (an endless value)",
                where,
                hint="an alias (*name) may only repeat a value defined outside of it",
                snippet=snippet_at(self.doc.text, where.line, where.col),
            )
        if alias is not None:
            self.expanded += 1
            if self.expanded > MAX_ALIAS_NODES:
                raise UserError(
                    f"aliases expand this file to more than {MAX_ALIAS_NODES:,} values",
                    where,
                    hint="aliases that repeat aliases multiply; write the values out",
                    snippet=snippet_at(self.doc.text, where.line, where.col),
                )
        if len(at) > MAX_DEPTH:
            raise UserError(
                f"values nested more than {MAX_DEPTH} levels deep",
                where,
                hint="glueform's files need only a few levels; flatten this value",
                snippet=snippet_at(self.doc.text, where.line, where.col),
            )

    def _mapping(
        self, node: yaml.MappingNode, at: PathKey, alias: SourceLocation | None
    ) -> dict[Any, Any]:
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
            out[key] = self.build(value_node, (*at, key), alias)
        return out


def _mark(doc: YamlDoc, node: yaml.Node) -> SourceLocation:
    return SourceLocation(doc.path, node.start_mark.line + 1, node.start_mark.column + 1)
