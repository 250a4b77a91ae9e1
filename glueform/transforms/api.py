"""What a transform's file imports: the decorator, the engine's functions as ``F``, its context."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

MARK = "__glueform_transform__"
# The functions module of the engine running the current transform (pyspark's or sqlframe's);
# set around each call, per thread.
_functions: ContextVar[Any] = ContextVar("glueform_functions")


def transform(
    *,
    materialized: str = "table",
    tags: list[str] | tuple[str, ...] = (),
    columns: Mapping[str, str] | None = None,
    description: str = "",
    database: str | None = None,
    partition_by: list[str] | tuple[str, ...] = (),
    enabled: bool = True,
    outputs: list[str] | tuple[str, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark the file's transform function. The compiler reads these arguments from the source
    (they must be literals), so the project compiles without importing the file. With
    ``outputs=[...]`` the function returns a dict of DataFrames, one table per name."""

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        setattr(fn, MARK, True)
        return fn

    return mark


class _Functions:
    """``F.col``, ``F.sum``...: the running engine's DataFrame functions."""

    def __getattr__(self, name: str) -> Any:
        try:
            module = _functions.get()
        except LookupError:
            raise RuntimeError(
                "glueform.transforms.F is usable inside a running transform"
            ) from None
        return getattr(module, name)


F = _Functions()


@dataclass(frozen=True)
class TransformContext:
    """The optional ``ctx`` parameter."""

    vars: Mapping[str, Any]
    engine: str
    _table: Callable[[str, str], Any]
    _refs: Mapping[str, tuple[str, str]]  # model -> (database, name)

    def ref(self, name: str) -> Any:
        return self._table(*self._refs[name])

    def source(self, source: str, table: str) -> Any:
        return self._table(source, table)
