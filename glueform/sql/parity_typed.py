"""Rewrites for Spark that keep DuckDB's arithmetic: division and averages.

The documented semantics are DuckDB's: ``/`` is a DOUBLE division whatever the operands
(DECIMAL / DECIMAL too, where Spark keeps a DECIMAL rounded to 6 places), and division by zero
gives what a DOUBLE division gives (``x/0`` is +inf or -inf, ``0/0`` NaN, NULL stays NULL)
where Spark in ANSI mode fails; ``//`` and ``%`` by zero are NULL. An average is a DOUBLE, of a
cast too. Types come from the query typed against its inputs (``parity._typed``) where known.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlglot import exp


def _type_names(node: exp.Expression) -> set[str]:
    from sqlglot import exp

    t = node.type
    return {t.this.name} if isinstance(t, exp.DataType) else set()


def _as_double(node: exp.Expression) -> exp.Expression:
    from sqlglot import exp

    if _type_names(node) == {"DOUBLE"} or (
        isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.DOUBLE
    ):
        return node.copy()
    return exp.cast(node.copy(), "DOUBLE")


def _nonzero_literal(node: exp.Expression) -> bool:
    from sqlglot import exp

    inner = node.unnest()
    if isinstance(inner, exp.Neg):
        inner = inner.this
    return isinstance(inner, exp.Literal) and inner.is_number and float(inner.name) != 0


def double_division(node: exp.Expression) -> exp.Expression:
    """``x / y`` as DuckDB computes it: in DOUBLE, with IEEE results for a zero divisor."""
    import sqlglot
    from sqlglot import exp

    if not isinstance(node, exp.Div) or node.args.get("typed") or node.args.get("safe"):
        return node
    if {"INTERVAL"} & (_type_names(node.this) | _type_names(node.expression)):
        return node
    x, y = _as_double(node.this), _as_double(node.expression)
    if _nonzero_literal(node.expression):
        return exp.paren(exp.Div(this=x, expression=y, typed=True))
    template = sqlglot.parse_one(
        "CASE WHEN __y = 0 THEN CASE WHEN ISNAN(__x) THEN __x"
        " WHEN __x > 0 THEN CAST('Infinity' AS DOUBLE)"
        " WHEN __x < 0 THEN CAST('-Infinity' AS DOUBLE)"
        " WHEN __x = 0 THEN CAST('NaN' AS DOUBLE) END"
        " ELSE __x / NULLIF(__y, 0) END",
        read="spark",
    )
    values = {"__x": x, "__y": y}
    for column in list(template.find_all(exp.Column)):
        if column.name in values:
            column.replace(values[column.name].copy())
    for div in template.find_all(exp.Div):
        div.set("typed", True)  # not rewritten again
    return exp.paren(template)


def null_on_zero(node: exp.Expression) -> exp.Expression:
    """``x // 0`` and ``x % 0`` are NULL on DuckDB; Spark in ANSI mode fails."""
    from sqlglot import exp

    if not isinstance(node, (exp.IntDiv, exp.Mod)) or _nonzero_literal(node.expression):
        return node
    if isinstance(node.expression, exp.Nullif):
        return node
    divisor = exp.Nullif(this=node.expression.copy(), expression=exp.Literal.number(0))
    return node.__class__(this=node.this.copy(), expression=divisor)


def double_avg(node: exp.Expression) -> exp.Expression:
    """DuckDB averages are DOUBLE, of DECIMALs too (a cast's among them), from an exact sum;
    Spark's average of a DECIMAL is a DECIMAL rounded to 4 more places. Averaging DOUBLEs
    gives DuckDB's answer."""
    from sqlglot import exp

    if not isinstance(node, exp.Avg):
        return node
    arg = node.this
    if isinstance(arg, exp.Distinct):  # avg(DISTINCT x)
        inner = [_as_double(e) for e in arg.expressions]
        return exp.Avg(this=exp.Distinct(expressions=inner))
    return exp.Avg(this=_as_double(arg))
