"""Models parsed and bound the way DuckDB will run them, before anything runs.

Parsing: DuckDB's own parser, many models in one call (``json_serialize_sql`` over a list),
so a model that validates is one the engine can parse, and a large project pays one round trip.

Binding: in DAG order, each model's query is described (``DESCRIBE``) in an in-memory DuckDB
against EMPTY tables with its inputs' columns (the sources' declared types over their files'
columns, the upstream models' bound output), and its own output becomes an empty table for
its children. Unknown columns, functions and tables, and type errors surface as the engine
would raise them; no row is read. A model whose inputs are not all known (a crawled table, a
Python transform, a source whose files are not readable here) is not bound, nor what reads it.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from glueform.compile.positions import ModelText, byte_to_char, caret_offset
from glueform.compile.source_columns import source_columns
from glueform.errors import UserError
from glueform.fingerprint import digest

if TYPE_CHECKING:
    from glueform.project.model import SourceTable
    from glueform.sql import TableRef

Columns = tuple[tuple[str, str], ...]  # (name, DuckDB type) in output order


@dataclass(frozen=True)
class Parsed:
    """What compile needs of one parsed query."""

    tables: frozenset[TableRef]  # read by name, CTEs left out
    names: tuple[str, ...]  # output names the query spells out (aliases, plain columns)
    table_functions: bool  # read_parquet(...) and the like: binding would read files
    literals: tuple[tuple[int, str, str], ...] = ()  # typed literals: (offset, text, type)


@dataclass(frozen=True)
class ParseFailure:
    message: str
    offset: int | None  # in the SQL given, characters
    unsupported: bool = False  # valid for DuckDB but not serialisable (PIVOT ...)


def parse_many(sqls: Sequence[str]) -> list[Parsed | ParseFailure]:
    """Each SQL text parsed by DuckDB, all in one call."""
    if not sqls:
        return []
    import duckdb

    from glueform.sql import string_literal

    texts = ", ".join(string_literal(sql, "duckdb") for sql in sqls)  # a parameter loads pandas
    with duckdb.connect(config={"threads": 1}) as con:
        rows = con.execute(
            f"SELECT json_serialize_sql(s) FROM unnest([{texts}]) WITH ORDINALITY AS u(s, i) "
            "ORDER BY i"
        ).fetchall()
    return [_parsed(sql, text) for sql, (text,) in zip(sqls, rows, strict=True)]


# The serialised tree's keys come in a fixed order: tables, CTE names and table functions are
# found in its text (a walk over the decoded tree costs more than the parse itself).
_STR = r'"((?:[^"\\]|\\.)*)"'
_BASE_TABLE = re.compile(r'"type":"BASE_TABLE",.*?"schema_name":' + _STR + r',"table_name":' + _STR)
_CTE_KEY = re.compile(r'\{"key":' + _STR + r',"value":\{"aliases":')
_TABLE_FUNCTION = '"type":"TABLE_FUNCTION"'
_LITERAL = re.compile(
    r'"child":\{"class":"CONSTANT","type":"VALUE_CONSTANT","alias":"","query_location":(\d+),'
    r'"value":\{"type":\{"id":"VARCHAR","type_info":null\},"is_null":false,"value":'
    + _STR
    + r'\}\},"cast_type":\{"id":"(\w+)","type_info":null\},"try_cast":false'
)
# the types whose literals the engine converts once, whatever the rows
_LITERAL_TYPES = {"DATE", "TIME", "TIMESTAMP", "INTERVAL", "BOOLEAN", "UUID", "TINYINT",
                  "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE"}  # fmt: skip


def _parsed(sql: str, text: str) -> Parsed | ParseFailure:
    tree = json.loads(text)
    if tree.get("error"):
        message = str(tree.get("error_message", "cannot be parsed"))
        position = tree.get("position")
        offset = byte_to_char(sql, int(position)) if position is not None else None
        unsupported = tree.get("error_type") == "not implemented"
        return ParseFailure(message, offset, unsupported)
    statements = tree.get("statements") or []
    if len(statements) != 1:
        what = "nothing" if not statements else f"{len(statements)} statements"
        return ParseFailure(f"a model must be exactly one SELECT query; this file has {what}", None)
    from glueform.sql import TableRef

    ctes = {json.loads(f'"{m}"').lower() for m in _CTE_KEY.findall(text)}
    tables = {
        TableRef(json.loads(f'"{db}"'), json.loads(f'"{name}"'))
        for db, name in _BASE_TABLE.findall(text)
    }
    found = frozenset(t for t in tables if t.db or t.name.lower() not in ctes)
    literals = tuple(
        (byte_to_char(sql, int(at)), json.loads(f'"{value}"'), type_)
        for at, value, type_ in _LITERAL.findall(text)
        if type_ in _LITERAL_TYPES
    )
    return Parsed(found, _output_names(statements[0]["node"]), _TABLE_FUNCTION in text, literals)


def bad_literals(literals: Sequence[tuple[str, str]]) -> list[bool]:
    """For each (text, type): the engine cannot read the text as that type (``date '...'``)."""
    if not literals:
        return []
    import duckdb

    from glueform.sql import string_literal

    checks = ", ".join(
        f"try_cast({string_literal(text, 'duckdb')} AS {type_}) IS NULL" for text, type_ in literals
    )
    with duckdb.connect(config={"threads": 1}) as con:
        row = con.execute(f"SELECT [{checks}]").fetchone()
    return list(row[0]) if row else [False] * len(literals)


def _output_names(node: dict[str, Any]) -> tuple[str, ...]:
    while node.get("type") == "SET_OPERATION_NODE":  # a UNION is named by its first query
        node = node["left"]
    names = []
    for item in node.get("select_list", ()):
        if item.get("alias"):
            names.append(item["alias"])
        elif item.get("class") == "COLUMN_REF":
            names.append(item["column_names"][-1])
    return tuple(names)


def trailing_semicolon(sql: str) -> int | None:
    """The offset of a ``;`` that ends the SQL (the engine wraps it in ``DESCRIBE (...)``)."""
    text = sql.rstrip()
    if not text.endswith(";"):
        return None
    last_line = text[text.rfind("\n") + 1 :]
    if "--" in last_line:  # the ; of a comment
        return None
    return len(text) - 1


@dataclass(frozen=True)
class BindInput:
    """A model as binding sees it."""

    name: str
    database: str
    table: str
    relation: str  # quoted, as the SQL names it
    sql: str
    incremental_sql: str
    reads: tuple[str, ...]  # quoted relations read
    text: ModelText
    bindable: bool  # an SQL model without table functions


@dataclass
class Binder:
    """Binds models in DAG order; ``columns`` maps each quoted relation to its columns (None:
    not known here). Models of one depth are bound in one engine call (an empty table made
    from each query); the cache (``bound``: key -> columns) answers models bound before with
    the same SQL and inputs, and the connection opens only when something is left to bind."""

    schemas: tuple[str, ...]
    sources: Mapping[str, SourceTable]  # quoted relation -> declared table
    bound: dict[str, Columns]
    source_cache: dict[str, Columns | None]
    columns: dict[str, Columns | None] = field(default_factory=dict)
    con: Any = None
    created: set[str] = field(default_factory=set)
    used: set[str] = field(default_factory=set)  # the keys of ``bound`` this compile used

    def __post_init__(self) -> None:
        for relation, table in self.sources.items():
            key = _source_key(table)
            if key not in self.source_cache:
                self.source_cache[key] = source_columns(self._con(), table)
            self.columns[relation] = self.source_cache[key]

    def bind_all(self, models: Sequence[BindInput]) -> None:
        """Bind ``models`` (in DAG order), depth by depth."""
        depth: dict[str, int] = {}
        layers: dict[int, list[BindInput]] = {}
        for model in models:
            d = 1 + max((depth.get(r, 0) for r in model.reads), default=0)
            depth[model.relation] = d
            layers.setdefault(d, []).append(model)
        for d in sorted(layers):
            todo: list[tuple[BindInput, str, list[Any]]] = []
            for model in layers[d]:
                inputs = [self.columns.get(r) for r in model.reads]
                self.columns[model.relation] = None
                if not model.bindable or any(c is None for c in inputs):
                    continue
                key = digest("bind", model.sql, model.incremental_sql, model.reads, inputs)
                self.used.add(key)
                if key in self.bound:
                    self.columns[model.relation] = self.bound[key]
                else:
                    todo.append((model, key, inputs))
            if todo:
                self._bind_layer(todo)

    def _bind_layer(self, todo: list[tuple[BindInput, str, list[Any]]]) -> None:
        import duckdb

        con = self._con()
        self._create_all({r for model, _, _ in todo for r in model.reads})
        statements = [
            f"CREATE OR REPLACE TABLE {m.relation} AS SELECT * FROM (\n{m.sql}\n) LIMIT 0"
            for m, _, _ in todo
        ]
        try:
            con.execute(";\n".join(statements))
        except duckdb.Error:  # which one: each alone, in DAG order, says it with its line
            for (model, _, inputs), statement in zip(todo, statements, strict=True):
                try:
                    con.execute(statement)
                except duckdb.Error as exc:
                    raise bind_error(str(exc), model.sql, model, inputs) from None
        wanted = {(m.database, m.table): m for m, _, _ in todo}
        found: dict[str, list[tuple[str, str]]] = {m.relation: [] for m, _, _ in todo}
        for schema, table, column, type_ in con.execute(
            "SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns() "
            "WHERE NOT internal ORDER BY table_oid, column_index"
        ).fetchall():
            model = wanted.get((schema, table))
            if model is not None:
                found[model.relation].append((column, type_))
        for model, key, inputs in todo:
            out = self.bound[key] = tuple(found[model.relation])
            self.columns[model.relation] = out
            self.created.add(model.relation)
            if model.incremental_sql:  # it reads {{ this }}: the table just made
                _describe(con, model.incremental_sql, model, inputs, incremental=True)

    def _con(self) -> Any:
        if self.con is None:
            import duckdb

            self.con = duckdb.connect(config={"threads": 1})
            self.con.execute(";".join(f"CREATE SCHEMA IF NOT EXISTS {s}" for s in self.schemas))
        return self.con

    def _create_all(self, relations: Iterable[str]) -> None:
        """Empty tables with the relations' columns, each once."""
        from glueform.sql import quote_identifier

        statements = []
        for relation in sorted(set(relations) - self.created):
            columns = self.columns[relation] or ()
            body = ", ".join(f"{quote_identifier(n, 'duckdb')} {t}" for n, t in columns)
            statements.append(f"CREATE OR REPLACE TABLE {relation} ({body})")
            self.created.add(relation)
        if statements:
            self._con().execute(";".join(statements))

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None


def _source_key(table: SourceTable) -> str:
    """A source's columns change with its declaration and its files."""
    import glob
    import os

    files = sorted(glob.glob(table.path, recursive=True)) if "://" not in table.path else []
    stats = [(f, os.stat(f).st_mtime_ns, os.stat(f).st_size) for f in files[:1000]]
    return digest(
        "source", table.path, table.format, dict(table.options), table.columns,
        table.partition_keys, stats,
    )  # fmt: skip


def _describe(
    con: Any, sql: str, model: BindInput, inputs: list[Any], incremental: bool = False
) -> Columns:
    import duckdb

    try:
        rows = con.execute(f"DESCRIBE (\n{sql}\n)").fetchall()
    except duckdb.Error as exc:
        raise bind_error(str(exc), sql, model, inputs, incremental) from None
    return tuple((str(r[0]), str(r[1])) for r in rows)


_WINDOW_ONLY = {"row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile",
                "lag", "lead", "first_value", "last_value", "nth_value"}  # fmt: skip


def _function_names() -> list[str]:
    """The engine's function names (asked only when a model calls one it does not know)."""
    import duckdb

    with duckdb.connect() as con:
        rows = con.execute(
            "SELECT DISTINCT function_name FROM duckdb_functions() "
            "WHERE function_type IN ('scalar', 'aggregate', 'macro')"
        ).fetchall()
    names = {str(r[0]).lower() for r in rows if str(r[0])[:1].isalpha()}
    return sorted(names | {"coalesce", "nullif", "ifnull", "try_cast"})  # the parser's own


_CLAUSES = (
    ("GROUP BY", r"\bgroup\s+by\b"),
    ("ORDER", r"\border\s+by\b"),
    ("Set operation", r"\b(union|except|intersect)\b"),
    ("HAVING", r"\bhaving\b"),
    ("WHERE", r"\bwhere\b"),
    ("QUALIFY", r"\bqualify\b"),
    ("LIMIT", r"\blimit\b"),
)
_NOT_FOUND = re.compile(r'Referenced column "([^"]+)" not found')
_QUOTED = re.compile(r'"([^"]+)"|name (\w+) does not exist')


def bind_error(
    message: str, sql: str, model: BindInput, inputs: list[Any], incremental: bool = False
) -> UserError:
    """The engine's refusal of a model as a user error at the file's line and column."""
    first, _, rest = message.partition("\n")
    kind, _, what = first.partition(": ")
    what = what or kind
    offset = caret_offset(message, sql, first_line=2)
    name = None
    hint = None
    missing = _NOT_FOUND.search(what)
    if missing:
        name = missing.group(1)
        candidates = [n for cols in inputs if cols for n, _ in cols]
        close = (
            difflib.get_close_matches(name, candidates, n=1)
            or [c for c in candidates if c.casefold() in name.casefold()][:1]
        )
        hint = (
            f"did you mean '{close[0]}'?"
            if close
            else f"the inputs' columns: {', '.join(candidates[:12])}"
            if candidates
            else None
        )
        what = f"unknown column '{name}'"
    else:
        quoted = _QUOTED.search(what)
        name = (quoted.group(1) or quoted.group(2)) if quoted else None
        mean = re.search(r'Did you mean "([^"]+)"', rest)
        function = re.search(r"Function with name (\w+) does not exist", what)
        if function and function.group(1).lower() in _WINDOW_ONLY:
            hint = f"{function.group(1)}() is a window function: add over (...)"
        elif function:
            close = difflib.get_close_matches(function.group(1).lower(), _function_names(), n=1)
            hint = f"did you mean {close[0]}()?" if close else None
            what = f"unknown function '{function.group(1)}'"
        elif mean:
            hint = f'did you mean "{mean.group(1)}"?'
        elif "explicit type casts" in what:
            hint = "cast the argument to the type the function takes (cast(x as ...))"
            what = what.split(". You might need")[0]
    if offset is None and name:
        spot = re.search(rf"\b{re.escape(name)}\b", sql)
        offset = spot.start() if spot else None
    if offset is None:  # a clause the message names
        for words, pattern in _CLAUSES:
            spot = re.search(pattern, sql, re.IGNORECASE) if words in what else None
            if spot:
                offset = spot.start()
                break
    if incremental:
        what += " (in the SQL rendered with is_incremental() true)"
    text = ModelText(model.text.path, model.text.source, sql)
    return text.error(
        f"the engine refuses this model: {what.rstrip('!')}",
        offset if offset is not None else 0,
        hint or "run 'glueform compile' to see the SQL the engine runs",
        len(name) if name else 1,
    )
