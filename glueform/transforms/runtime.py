"""Run a Python transform: import its file, hand it its inputs as lazy DataFrames, check what
it returns. The engine decides what a DataFrame is and writes the result."""

from __future__ import annotations

import importlib.util
import inspect
import sys
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from glueform.compile.dag import Graph, Node
from glueform.errors import SourceLocation, UserError
from glueform.transforms.api import MARK, TransformContext, _functions
from glueform.transforms.compile import CONTEXT_PARAM, SOURCE_SEPARATOR


class TransformError(UserError):
    """The transform raised, or returned something other than a DataFrame."""


def call_transform(
    node: Node,
    graph: Graph,
    table: Callable[[str, str], Any],
    functions: Any,
    frame_type: type,
    engine: str,
    vars: Mapping[str, Any],
) -> Any:
    """The DataFrame the transform returns, built from ``table(database, name)`` frames."""
    fn = _load(node.path, node.name)
    refs = {r: (graph.nodes[r].database, r) for r in node.refs}
    kwargs: dict[str, Any] = {}
    for name in inspect.signature(fn).parameters:
        if name == CONTEXT_PARAM:
            kwargs[name] = TransformContext(vars, engine, table, refs)
        elif name in refs:
            kwargs[name] = table(*refs[name])
        else:
            kwargs[name] = table(*name.split(SOURCE_SEPARATOR, 1))
    token = _functions.set(functions)
    try:
        result = fn(**kwargs)
    except Exception as exc:
        raise TransformError(
            f"the transform raised {type(exc).__name__}: {exc}",
            _innermost_line(exc, node.path),
            hint="fix the function; nothing of this build was written",
        ) from None
    finally:
        _functions.reset(token)
    stem = node.path.stem
    if isinstance(result, dict) and node.name != stem:  # one of several outputs
        if node.name not in result:
            raise TransformError(
                f"the transform's result has no '{node.name}' (it has: {', '.join(map(str, result))})",
                SourceLocation(node.path, _def_line(fn), 1),
                hint="return a dict with a DataFrame for each name in @transform(outputs=...)",
            )
        result = result[node.name]
    elif node.name != stem:
        raise TransformError(
            f"the transform declares outputs but returned {type(result).__name__}, not a dict",
            SourceLocation(node.path, _def_line(fn), 1),
            hint="return {name: DataFrame} for each name in @transform(outputs=...)",
        )
    if not isinstance(result, frame_type):
        raise TransformError(
            f"the transform returned {type(result).__name__}, not a DataFrame",
            SourceLocation(node.path, _def_line(fn), 1),
            hint="return the DataFrame to write (built from the inputs it was given)",
        )
    return result


def _load(path: Path, name: str) -> Callable[..., Any]:
    """The marked function of a transform's file, imported afresh (the file may have changed)."""
    module_name = f"glueform_transform_{name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise TransformError(
            f"importing the transform raised {type(exc).__name__}: {exc}",
            _innermost_line(exc, path),
        ) from None
    finally:
        sys.modules.pop(module_name, None)
    return next(f for f in vars(module).values() if callable(f) and getattr(f, MARK, False))


def _def_line(fn: Callable[..., Any]) -> int:
    """The line of ``def`` (below the decorators)."""
    lines, start = inspect.getsourcelines(fn)
    return start + next((i for i, text in enumerate(lines) if text.lstrip().startswith("def ")), 0)


def _innermost_line(exc: BaseException, path: Path) -> SourceLocation:
    """The last line of the transform's own file in the traceback."""
    line = 1
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename) == path:
            line = frame.lineno or line
    return SourceLocation(path, line, 1)
