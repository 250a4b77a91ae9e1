"""Column lineage: sqlglot walks each output column down to the table columns that feed it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from glueform import Workspace
from glueform.catalog.model import VIRTUAL_VIEW, CatalogTable, ColumnDef
from glueform.docs.lineage import ModelColumns, project_lineage
from glueform.sql import ColumnRef, column_lineage

EXAMPLE = Path(__file__).resolve().parents[1] / "example_project"
SCHEMA = {
    "raw": {
        "orders": {"order_id": "BIGINT", "customer_id": "BIGINT", "amount": "INT"},
        "customers": {"customer_id": "BIGINT", "first": "VARCHAR", "last": "VARCHAR"},
    }
}


def refs(*names: str) -> tuple[ColumnRef, ...]:
    return tuple(ColumnRef(*name.split(".")) for name in names)


def test_lineage_through_ctes_joins_expressions_and_windows() -> None:
    sql = """
        with o as (select customer_id, amount * 2 as doubled from raw.orders)
        select c.first || ' ' || c.last as full_name,
               sum(o.doubled) over (partition by c.customer_id) as total,
               'EUR' as currency,
               count(*) as n
        from raw.customers c join o on o.customer_id = c.customer_id
        group by c.first, c.last, c.customer_id, o.doubled
    """
    result = column_lineage(sql, "duckdb", SCHEMA)
    assert result is not None
    assert [name for name, _ in result.columns] == ["full_name", "total", "currency", "n"]
    assert result.lineage["full_name"] == refs("raw.customers.first", "raw.customers.last")
    assert result.lineage["total"] == refs("raw.customers.customer_id", "raw.orders.amount")
    assert result.lineage["currency"] == () and result.lineage["n"] == ()
    assert dict(result.columns)["currency"] == "VARCHAR"


def test_lineage_of_a_union_reads_every_branch() -> None:
    sql = "select order_id as id from raw.orders union all select customer_id from raw.customers"
    result = column_lineage(sql, "duckdb", SCHEMA)
    assert result is not None
    assert result.lineage["id"] == refs("raw.customers.customer_id", "raw.orders.order_id")


def test_a_star_over_unknown_columns_is_unknown_not_wrong() -> None:
    assert column_lineage("select * from raw.unknown", "duckdb", {}) is None
    expanded = column_lineage("select * from raw.orders", "duckdb", SCHEMA)
    assert expanded is not None and list(expanded.lineage) == ["order_id", "customer_id", "amount"]


@pytest.fixture(scope="module")
def shop_lineage() -> dict[str, ModelColumns]:
    graph = Workspace(EXAMPLE, use_cache=False).graph
    return project_lineage(graph, {})


def names(columns: tuple[ColumnRef, ...]) -> list[str]:
    return [f"{r.db}.{r.table}.{r.column}" for r in columns]


def test_example_project_mart_columns_trace_to_staging_and_sources(
    shop_lineage: dict[str, ModelColumns],
) -> None:
    fct = shop_lineage["fct_orders"]
    assert fct.known
    # through the CTE `orders` and the cents_to_amount macro, to the intermediate model ...
    assert names(fct.upstream["order_amount"]) == ["analytics.int_order_totals.order_amount_cents"]
    # ... and in the end to the two raw columns it multiplies
    assert names(fct.origins["order_amount"]) == [
        "raw.order_items.quantity",
        "raw.products.price_cents",
    ]
    assert names(fct.upstream["payment_status"]) == [
        "analytics.int_order_payments.amount_paid_cents",
        "analytics.int_order_payments.payment_count",
        "analytics.int_order_totals.order_amount_cents",
    ]
    assert names(fct.upstream["order_month"]) == ["analytics.stg_orders.ordered_on"]
    assert names(fct.origins["order_month"]) == ["raw.orders.ordered_at"]
    assert fct.upstream["currency"] == ()  # a var rendered as a literal

    dim = shop_lineage["dim_customers"]
    assert names(dim.upstream["full_name"]) == ["analytics.stg_customers.full_name"]
    assert names(dim.origins["full_name"]) == [
        "raw.customers.first_name",
        "raw.customers.last_name",
    ]
    assert names(dim.upstream["lifetime_value"]) == ["marts.fct_orders.revenue_amount"]
    assert names(dim.origins["last_seen_at"]) == ["raw.web_events.occurred_at"]

    staging = shop_lineage["stg_orders"]
    assert names(staging.upstream["status"]) == ["raw.orders.status"]
    assert dict(staging.columns)["ordered_on"] == "DATE"


def test_every_example_model_is_analysed(shop_lineage: dict[str, ModelColumns]) -> None:
    sql = {n: m for n, m in shop_lineage.items() if n != "category_summary"}  # .py: no SQL
    assert all(m.known and m.columns for m in sql.values())
    assert not shop_lineage["category_summary"].known


GOLDEN = Path(__file__).parent / "golden" / "example_column_lineage.json"


def test_example_project_column_lineage_matches_the_golden_file(
    shop_lineage: dict[str, ModelColumns],
) -> None:
    """Every column of every example model, its upstream and source columns. After a reviewed
    change, regenerate with: GLUEFORM_UPDATE_GOLDEN=1 pytest tests/test_lineage.py"""
    actual = {
        name: {
            column: {"upstream": names(m.upstream[column]), "origins": names(m.origins[column])}
            for column, _ in m.columns
        }
        for name, m in sorted(shop_lineage.items())
        if m.known
    }
    if os.environ.get("GLUEFORM_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(actual, indent=1) + "\n", encoding="utf-8")
    assert actual == json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_the_catalogs_types_win_and_spare_inference() -> None:
    graph = Workspace(EXAMPLE, use_cache=False).graph
    built = CatalogTable(
        "analytics",
        "stg_orders",
        VIRTUAL_VIEW,
        columns=(ColumnDef("order_id", "HUGEINT"), ColumnDef("status", "VARCHAR")),
    )
    found = project_lineage(graph, {("analytics", "stg_orders"): built})["stg_orders"]
    types = dict(found.columns)
    assert types["order_id"] == "HUGEINT"  # as built
    assert types["ordered_on"] == ""  # not in the built table: unknown until the next build
    lineage = column_lineage("select order_id from raw.orders", "duckdb", SCHEMA, False)
    assert lineage is not None and lineage.columns == (("order_id", ""),)
