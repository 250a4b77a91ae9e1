"""Read a Python transform without running it: its function, inputs and config, from the AST.

Dependencies must be known before anything runs, as for SQL models: they are the function's
parameters (and literal ``ctx.ref``/``ctx.source`` calls). DataFrame API calls that sqlframe
cannot run on DuckDB are found here, with their line, rather than half-way through a run.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Collection
from pathlib import Path
from typing import Any

from glueform.compile.templating import Rendered
from glueform.errors import SourceLocation, UserError, snippet_at

CONFIG_KEYS = {
    "materialized",
    "tags",
    "columns",
    "description",
    "database",
    "partition_by",
    "enabled",
    "outputs",
}
# The arguments read here rather than by config.schema.json: what each must be.
_SHAPES = {
    "columns": (
        lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in (*v, *v.values())),
        "a dict of column name to SQL type, e.g. {'orders': 'BIGINT'}",
    ),
    "outputs": (
        lambda v: isinstance(v, list | tuple) and all(isinstance(x, str) for x in v),
        "a list of table names, e.g. ['big_orders', 'small_orders']",
    ),
}
CONTEXT_PARAM = "ctx"
SOURCE_SEPARATOR = "__"  # raw__orders reads source('raw', 'orders')
# DataFrame/Column methods of PySpark that sqlframe does not offer on DuckDB.
_METHOD_GAPS = ("try_cast", "rdd", "mapInPandas", "mapInArrow", "foreach", "foreachPartition")


def python_model(
    text: str, path: Path, models: Collection[str], sources: Collection[str]
) -> Rendered:
    """The transform's inputs (as refs and sources) and its decorator config."""
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        line, col = exc.lineno or 1, exc.offset or 1
        raise UserError(
            f"Python syntax error: {exc.msg}",
            SourceLocation(path, line, col),
            snippet=snippet_at(text, line, col, 1),
        ) from None
    fn = _transform_function(tree, text, path)
    config = _config(fn, text, path)
    out = Rendered(
        sql=text,
        config=config,
        column_types=dict(config.pop("columns", {})),
        outputs=[str(o) for o in config.pop("outputs", ())],
    )
    for arg in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]:
        if arg.arg != CONTEXT_PARAM:
            _add_input(out, arg.arg, arg, text, path, models, sources)
    for call in ast.walk(fn):
        _add_context_call(out, call, text, path, models, sources)
    _check_duckdb_gaps(tree, text, path)
    return out


def _transform_function(tree: ast.Module, text: str, path: Path) -> ast.FunctionDef:
    found = [
        node
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and any(_is_transform(d) for d in node.decorator_list)
    ]
    if len(found) != 1:
        raise UserError(
            "a Python transform defines exactly one function decorated with @transform(...)"
            + (f" (found {len(found)})" if found else ""),
            SourceLocation(path, found[1].lineno if len(found) > 1 else 1, 1),
            hint="from glueform.transforms import F, transform; then @transform() above the function",
        )
    return found[0]


def _is_transform(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
    return name == "transform"


def _config(fn: ast.FunctionDef, text: str, path: Path) -> dict[str, Any]:
    decorator = next(d for d in fn.decorator_list if _is_transform(d))
    config: dict[str, Any] = {}
    for keyword in decorator.keywords if isinstance(decorator, ast.Call) else ():
        where = SourceLocation(path, keyword.lineno, keyword.col_offset + 1)
        if keyword.arg not in CONFIG_KEYS:
            close = difflib.get_close_matches(keyword.arg or "", CONFIG_KEYS, n=1)
            raise UserError(
                f"@transform() has no argument '{keyword.arg}'",
                where,
                hint=f"did you mean '{close[0]}'?"
                if close
                else f"arguments: {', '.join(sorted(CONFIG_KEYS))}",
            )
        try:
            value = config[keyword.arg] = ast.literal_eval(keyword.value)
        except ValueError:
            raise UserError(
                f"@transform({keyword.arg}=...) must be a literal",
                where,
                hint="the project compiles without running Python files: write the value itself",
            ) from None
        if keyword.arg in _SHAPES and not _SHAPES[keyword.arg][0](value):
            raise UserError(
                f"@transform({keyword.arg}=...) must be {_SHAPES[keyword.arg][1]}", where
            )
    if config.get("materialized", "table") != "table":
        raise UserError(
            "a Python transform is materialized as a table",
            SourceLocation(path, decorator.lineno, decorator.col_offset + 1),
            hint="remove materialized=... (a view would need SQL)",
        )
    if "tags" in config:
        config["tags"] = list(config["tags"])
    return config


def _add_input(
    out: Rendered,
    name: str,
    node: ast.AST,
    text: str,
    path: Path,
    models: Collection[str],
    sources: Collection[str],
) -> None:
    source_key = name.replace(SOURCE_SEPARATOR, ".", 1) if SOURCE_SEPARATOR in name else None
    if name in models:
        out.refs.append(name)
    elif source_key in sources or (source_key and source_key.split(".")[0] in sources):
        out.sources.append(source_key)
    else:
        line, col = getattr(node, "lineno", 1), getattr(node, "col_offset", 0) + 1
        names = [*models, *(s.replace(".", SOURCE_SEPARATOR, 1) for s in sources)]
        close = difflib.get_close_matches(name, names, n=1)
        raise UserError(
            f"parameter '{name}' names no model or source table",
            SourceLocation(path, line, col),
            hint=f"did you mean '{close[0]}'?"
            if close
            else "name a model, or a source table as source__table, or call it ctx",
            snippet=snippet_at(text, line, col, len(name)),
        )


def _add_context_call(
    out: Rendered,
    node: ast.AST,
    text: str,
    path: Path,
    models: Collection[str],
    sources: Collection[str],
) -> None:
    """``ctx.ref("name")`` and ``ctx.source("src", "table")`` with literal arguments."""
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == CONTEXT_PARAM
        and node.func.attr in ("ref", "source")
    ):
        return
    args = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    if len(args) != len(node.args) or len(args) != (1 if node.func.attr == "ref" else 2):
        raise UserError(
            f"ctx.{node.func.attr}() takes literal names",
            SourceLocation(path, node.lineno, node.col_offset + 1),
            hint="dependencies are read from the file before it runs",
        )
    name = args[0] if node.func.attr == "ref" else SOURCE_SEPARATOR.join(args)
    _add_input(out, name, node, text, path, models, sources)


def _check_duckdb_gaps(tree: ast.Module, text: str, path: Path) -> None:
    """PySpark calls that sqlframe cannot run on DuckDB, and imports that would bypass F."""
    from sqlframe.base.column import Column
    from sqlframe.duckdb import functions
    from sqlframe.duckdb.dataframe import DuckDBDataFrame

    for node in ast.walk(tree):
        where: tuple[int, int] | None = None
        message = hint = ""
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pyspark"):
            where = (node.lineno, node.col_offset + 1)
            message = f"'from {node.module} import ...' ties the transform to Spark"
            hint = "from glueform.transforms import F (the running engine's functions)"
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "F"
            and not hasattr(functions, node.attr)
        ):
            where = (node.lineno, node.col_offset + 1)
            message = f"F.{node.attr} does not run on DuckDB (sqlframe has no '{node.attr}')"
            hint = "write it with other functions, or as a SQL transform"
        elif (
            isinstance(node, ast.Attribute)
            and node.attr in _METHOD_GAPS
            and not hasattr(Column, node.attr)
            and not hasattr(DuckDBDataFrame, node.attr)
        ):
            where = (
                node.end_lineno or node.lineno,
                (node.end_col_offset or 0) - len(node.attr) + 1,
            )
            message = f".{node.attr} does not run on DuckDB (sqlframe has no '{node.attr}')"
            hint = "write it with other DataFrame calls, or as a SQL transform"
        if where:
            raise UserError(
                message,
                SourceLocation(path, *where),
                hint=hint,
                snippet=snippet_at(text, where[0], where[1], 1),
            )
