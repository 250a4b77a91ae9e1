"""The parity suite: SQL features written once in the project dialect, built on DuckDB and on
Spark, compared table for table (``glueform verify``). Each feature is one model; a difference
names the feature. Constructs that cannot be made equal are refused at compile time instead
(see ``test_constructs_that_differ_are_refused``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import glueform, write_project

from glueform.verify import VerifyReport, verify

pytestmark = [pytest.mark.slow, pytest.mark.spark]
pytest.importorskip("pyspark", reason="the spark extra is part of the dev extras")

PROJECT = """\
name: parity
targets:
  dev: {engine: duckdb, threads: 2}
  spark:
    engine: spark
    warehouse: warehouse-spark
    state: .glueform-spark
    spark: {master: 'local[2]'}
transforms:
  defaults: {materialized: table}
"""

SOURCES = """\
sources:
  - name: raw
    tables:
      - {name: customers, path: data/customers.parquet, format: parquet}
      - {name: orders, path: data/orders.parquet, format: parquet}
      - name: events
        path: data/events.csv
        format: csv
        options: {header: true}
        columns:
          - {name: event_id, type: BIGINT}
          - {name: code, type: VARCHAR}
          - {name: happened_at, type: TIMESTAMP}
          - {name: value, type: 'DECIMAL(12,3)'}
"""

# Leading zeros in `code` must survive: a declared VARCHAR is read as text on both engines.
EVENTS_CSV = """\
event_id,code,happened_at,value
1,007,2024-01-31 23:30:00,1.500
2,042,2024-02-01 00:30:00,-2.250
3,,2024-02-29 12:00:00,
4,100,2024-03-31 22:15:00,1000.125
"""

DATA_SQL = """
copy (select * from (values
    (1, 'Ada', 'GB', timestamp '2023-12-31 23:59:59', {'city': 'London', 'zip': 'N1'}),
    (2, 'grace', 'US', timestamp '2024-01-15 08:00:00', {'city': 'New York', 'zip': '10001'}),
    (3, 'Linus', null, timestamp '2024-02-29 12:00:00', {'city': null, 'zip': '00100'}),
    (4, '  Barbara ', 'us', timestamp '2024-03-01 00:00:00', null)
  ) t(customer_id, name, country, signed_up_at, address)
) to '{root}/data/customers.parquet' (format parquet);
copy (select
    order_id::bigint as order_id, customer_id::bigint as customer_id,
    amount::decimal(10, 2) as amount, qty::integer as qty, ordered_at, status, note,
    tags::varchar[] as tags
  from (values
    (10, 1, 12.50, 2, timestamp '2024-01-31 23:30:00', 'paid', '42', ['a', 'b']),
    (11, 1, 7.25, 1, timestamp '2024-02-01 00:30:00', 'paid', 'x1', ['b']),
    (12, 2, 100.00, 5, timestamp '2024-02-15 10:00:00', 'refunded', null, []),
    (13, 3, 0.99, 3, timestamp '2024-03-31 23:59:59', 'paid', '-3', null),
    (14, 9, 55.55, 7, timestamp '2024-04-01 00:00:00', null, '', ['c', 'a', 'c']),
    (15, 2, 100.00, -4, timestamp '2024-12-31 12:00:00', 'paid', '2.5', ['z'])
  ) t(order_id, customer_id, amount, qty, ordered_at, status, note, tags)
) to '{root}/data/orders.parquet' (format parquet);
"""

ORDERS = "{{ source('raw', 'orders') }}"
CUSTOMERS = "{{ source('raw', 'customers') }}"
EVENTS = "{{ source('raw', 'events') }}"

FEATURES: dict[str, str] = {
    # joins of every kind
    "inner_join": f"select o.order_id, c.name from {ORDERS} o join {CUSTOMERS} c on o.customer_id = c.customer_id",
    "left_join": f"select o.order_id, c.name from {ORDERS} o left join {CUSTOMERS} c on o.customer_id = c.customer_id",
    "right_join": f"select o.order_id, c.customer_id from {ORDERS} o right join {CUSTOMERS} c on o.customer_id = c.customer_id",
    "full_join": f"select o.order_id, c.customer_id as cid from {ORDERS} o full outer join {CUSTOMERS} c on o.customer_id = c.customer_id",
    "cross_join": f"select o.order_id, c.customer_id from {ORDERS} o cross join {CUSTOMERS} c",
    "join_using": f"select customer_id, o.order_id, c.country from {ORDERS} o join {CUSTOMERS} c using (customer_id)",
    "semi_join": f"select c.customer_id from {CUSTOMERS} c where exists (select 1 from {ORDERS} o where o.customer_id = c.customer_id)",
    "anti_join": f"select c.customer_id from {CUSTOMERS} c where not exists (select 1 from {ORDERS} o where o.customer_id = c.customer_id)",
    "self_join": f"select a.order_id, b.order_id as next_id from {ORDERS} a join {ORDERS} b on b.order_id = a.order_id + 1",
    "non_equi_join": f"select o.order_id, c.customer_id from {ORDERS} o join {CUSTOMERS} c on o.ordered_at >= c.signed_up_at and o.customer_id = c.customer_id",
    # aggregates
    "group_by_having": f"select customer_id, count(*) as n, sum(amount) as total from {ORDERS} group by customer_id having count(*) > 1",
    "count_distinct_nulls": f"select count(distinct status) as statuses, count(status) as with_status, count(*) as n from {ORDERS}",
    "sum_of_integers": f"select sum(qty) as qty, sum(order_id) as ids, min(qty) as lo, max(qty) as hi from {ORDERS}",
    "avg_of_decimal": f"select customer_id, avg(amount) as mean, avg(qty) as mean_qty from {ORDERS} group by customer_id",
    "rollup": f"select status, customer_id, sum(qty) as qty from {ORDERS} group by rollup (status, customer_id)",
    "filter_clause": f"select count(*) filter (where status = 'paid') as paid, sum(qty) filter (where qty > 0) as pos from {ORDERS}",
    "string_agg_ordered": f"select customer_id, string_agg(cast(order_id as varchar), ',' order by order_id) as ids from {ORDERS} group by customer_id",
    "array_agg_ordered": f"select customer_id, array_agg(order_id order by order_id) as ids from {ORDERS} group by customer_id",
    # windows
    "row_number": f"select order_id, row_number() over (partition by customer_id order by ordered_at) as rn from {ORDERS}",
    "rank_dense_rank": f"select order_id, rank() over (order by amount desc) as r, dense_rank() over (order by amount desc) as dr from {ORDERS}",
    "running_sum": f"select order_id, sum(amount) over (order by order_id rows between unbounded preceding and current row) as running from {ORDERS}",
    "lag_lead": f"select order_id, lag(amount) over (order by order_id) as prev, lead(order_id, 2) over (order by order_id) as next2 from {ORDERS}",
    "first_last_value": f"select order_id, first_value(order_id) over w as first, last_value(order_id) over w as last from {ORDERS} window w as (partition by customer_id order by order_id rows between unbounded preceding and unbounded following)",
    "ntile": f"select order_id, ntile(3) over (order by order_id) as bucket from {ORDERS}",
    "qualify": f"select customer_id, order_id from {ORDERS} qualify row_number() over (partition by customer_id order by amount desc, order_id) = 1",
    "null_ordering": f"select order_id, row_number() over (order by status, order_id) as asc_rn, row_number() over (order by status desc, order_id) as desc_rn from {ORDERS}",
    "order_limit": f"select order_id, note from {ORDERS} order by note nulls first, order_id limit 3",
    # dates and times
    "date_trunc": f"select order_id, date_trunc('month', ordered_at) as month, date_trunc('day', ordered_at) as day from {ORDERS}",
    "date_arithmetic": f"select order_id, ordered_at + interval 1 day as next_day, cast(ordered_at as date) + 30 as plus30 from {ORDERS}",
    "month_boundary_diff": f"select order_id, date_diff('day', ordered_at, timestamp '2024-02-01 00:00:00') as days, date_diff('month', ordered_at, timestamp '2024-03-01 00:00:00') as months from {ORDERS}",
    "extract_parts": f"select order_id, year(ordered_at) as y, month(ordered_at) as m, day(ordered_at) as d, hour(ordered_at) as h, extract(quarter from ordered_at) as q from {ORDERS}",
    "day_of_week": f"select order_id, dayofweek(ordered_at) as dow, isodow(ordered_at) as isodow from {ORDERS}",
    "strftime": f"select order_id, strftime(ordered_at, '%Y-%m-%d %H:%M') as text from {ORDERS}",
    "epoch": f"select order_id, epoch(ordered_at) as seconds from {ORDERS}",
    "timestamps_and_time_zone": f"select event_id, happened_at, cast(happened_at as date) as day, date_trunc('month', happened_at) as month from {EVENTS}",
    "last_day": f"select order_id, last_day(cast(ordered_at as date)) as eom from {ORDERS}",
    # strings and regexps
    "string_functions": f"select customer_id, upper(name) as u, lower(name) as l, trim(name) as t, length(name) as n, substring(name, 2, 3) as s, concat(name, '-', country) as c, replace(name, 'a', 'A') as r from {CUSTOMERS}",
    "string_pad_split": f"select customer_id, lpad(cast(customer_id as varchar), 4, '0') as padded, split_part('a,b,c', ',', customer_id) as part, left(name, 2) as l2, reverse(name) as rev from {CUSTOMERS}",
    "like_ilike": f"select customer_id, name like '%a%' as has_a, name ilike 'g%' as starts_g, country not like 'U_' as not_u from {CUSTOMERS}",
    "regexp": f"select customer_id, regexp_matches(name, '^[A-Z]') as capital, regexp_replace(name, '[aeiou]', '*', 'g') as masked, regexp_extract(name, '([A-Za-z]+)', 1) as word, regexp_replace(name, '^ +', '') as ltrimmed from {CUSTOMERS}",
    "concat_nulls": f"select customer_id, name || '/' || country as joined, concat_ws('/', name, country) as ws from {CUSTOMERS}",
    # nested types
    "struct_access": f"select customer_id, address.city as city, address['zip'] as zip from {CUSTOMERS}",
    "struct_build": f"select customer_id, {{'id': customer_id, 'name': name}} as s from {CUSTOMERS}",
    "array_functions": f"select order_id, len(tags) as n, array_length(tags) as n2, tags[1] as first, array_contains(tags, 'a') as has_a from {ORDERS}",
    "unnest": f"select order_id, tag from {ORDERS}, unnest(tags) as t(tag)",
    # CASE, NULLs, casts, numbers
    "case_when": f"select order_id, case when amount > 50 then 'big' when amount > 5 then 'mid' else 'small' end as size, case status when 'paid' then 1 else 0 end as paid from {ORDERS}",
    "coalesce_nullif": f"select order_id, coalesce(status, 'unknown') as status, nullif(note, '') as note, greatest(qty, 0) as g, least(qty, 3) as l from {ORDERS}",
    "casts": f"select order_id, cast(amount as double) as d, cast(qty as varchar) as s, cast(amount as integer) as i, cast('2024-02-29' as date) as dt from {ORDERS}",
    "try_cast_bad_strings": f"select order_id, try_cast(note as integer) as as_int, try_cast(note as double) as as_double from {ORDERS}",
    "integer_division": f"select order_id, qty // 2 as floor_div, qty / 2 as true_div, qty % 3 as modulo from {ORDERS}",
    "decimal_arithmetic": f"select order_id, amount * qty as line, amount + 0.005 as plus, round(amount * 1.07, 2) as taxed from {ORDERS}",
    "rounding": f"select order_id, round(amount, 0) as r0, floor(amount) as f, ceil(amount) as c, abs(qty) as a from {ORDERS}",
    "boolean_nulls": f"select order_id, (status = 'paid') and (qty > 1) as both_, (status = 'paid') or (qty > 1) as either, status is distinct from 'paid' as distinct_ from {ORDERS}",
    # set operations and subqueries
    "set_operations": f"select customer_id from {ORDERS} union select customer_id from {CUSTOMERS} except select 9",
    "union_all_intersect": f"select customer_id from {ORDERS} union all select customer_id from {CUSTOMERS} intersect select customer_id from {CUSTOMERS}",
    "scalar_subquery": f"select order_id, amount - (select avg(amount) from {ORDERS}) as vs_mean from {ORDERS}",
    "cte_in_list": f"with paid as (select * from {ORDERS} where status in ('paid', 'refunded')) select order_id from paid where qty between 1 and 5",
    "distinct_on_values": f"select distinct customer_id, status from {ORDERS}",
    "md5_hash": f"select customer_id, md5(name) as h from {CUSTOMERS}",
    "declared_csv_types": f"select event_id, code, value, value * 2 as doubled from {EVENTS}",
    # the classes of issue 12: arithmetic, names, ORDER BY
    "decimal_ratio": f"select customer_id, sum(cast(amount as decimal(38,2))) / cast(3 as decimal(38,2)) as ratio from {ORDERS} group by customer_id having sum(cast(amount as decimal(38,2))) / cast(3 as decimal(38,2)) > 6.5833333",
    "ratio_of_stored_decimals": f"select order_id, amount / (amount + 1) as share, amount / qty as per_unit from {ORDERS}",
    "avg_of_cast": f"select count(*) as n from {ORDERS} having avg(cast(amount as decimal(12,2))) > 46.0483333",
    "division_by_zero": f"select order_id, amount / 0 as inf_, -qty / (qty - qty) as neg, (qty - qty) / 0 as nan_, qty // 0 as idiv, qty % 0 as m, null / 0 as n from {ORDERS}",
    "names_keep_case": f'select order_id as "Excess Discount Amount", qty as B1_LP, Status from {ORDERS}',
    "unaliased_expressions": f"select customer_id, count(*), sum(qty) + 1, upper(status) from {ORDERS} group by customer_id, status",
    "order_by_unaliased_aggregate": f"select customer_id, sum(qty) from {ORDERS} group by customer_id order by sum(qty) desc limit 3",
    "distinct_qualified_order_by": f"select distinct(customer_id) from {ORDERS} o order by customer_id",
    "reads_unaliased_view": "select * from {{ ref('unaliased_view') }}",
}

# Views are not compared by verify; a table reads this one (Spark refuses unnamed view columns).
VIEWS = {
    "unaliased_view": f"select customer_id, count(*), max(amount) * 2 from {ORDERS} group by customer_id",
}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> VerifyReport:
    import duckdb

    root = tmp_path_factory.mktemp("parity")
    files = {
        "glueform.yml": PROJECT,
        "sources/raw.yml": SOURCES,
        "data/events.csv": EVENTS_CSV,
    }
    files |= {f"transforms/{name}.sql": sql + "\n" for name, sql in FEATURES.items()}
    files |= {
        f"transforms/{name}.sql": "{{ config(materialized='view') }}\n" + sql + "\n"
        for name, sql in VIEWS.items()
    }
    write_project(root, files)
    with duckdb.connect() as con:
        con.execute(DATA_SQL.replace("{root}", str(root)))
    return verify(root, "dev", "spark", [], [], {})


def test_every_feature_builds_on_both_engines(report: VerifyReport) -> None:
    assert report.failures == []


@pytest.mark.parametrize("feature", sorted(FEATURES))
def test_feature_gives_the_same_table(report: VerifyReport, feature: str) -> None:
    diffs = {t.name: t for t in report.tables}
    assert feature in diffs, report.failures
    diff = diffs[feature]
    assert diff.equal, diff


def test_the_suite_is_large_enough() -> None:
    assert len(FEATURES) >= 40


def test_constructs_that_differ_are_refused(tmp_path: Path) -> None:
    files = {"glueform.yml": PROJECT, "transforms/seq.sql": "select x from range(1, 5, 2) t(x)\n"}
    root = write_project(tmp_path / "p", files)
    result = glueform("compile", "-p", str(root), "-t", "spark")
    assert result.exit_code == 2
    assert (
        "seq.sql:1:15" in result.stderr and "as a table is not supported on Spark" in result.stderr
    )


def test_descending_ordered_lists_are_refused_with_the_file(tmp_path: Path) -> None:
    files = {
        "glueform.yml": PROJECT,
        "transforms/ids.sql": "select list(x order by x desc) as xs from (select 1 as x)\n",
    }
    root = write_project(tmp_path / "p", files)
    result = glueform("compile", "-p", str(root), "-t", "spark")
    assert result.exit_code == 2, result.output
    assert "ids.sql:1:8" in result.stderr and "cannot be made equal on Spark" in result.stderr
    assert "list_reverse" in result.stderr  # the hint


@pytest.fixture(scope="module")
def corpus_report(tmp_path_factory: pytest.TempPathFactory) -> VerifyReport:
    """The whole corpus as one project: one run on each engine."""
    import duckdb
    from parity_corpus import DATA_SQL, QUERIES, SOURCES

    root = tmp_path_factory.mktemp("corpus")
    (root / "data").mkdir()
    files = {"glueform.yml": PROJECT, "sources/star.yml": SOURCES}
    files |= {f"transforms/{name}.sql": sql + "\n" for name, sql in QUERIES.items()}
    write_project(root, files)
    with duckdb.connect() as con:
        con.execute(DATA_SQL.replace("{root}", str(root)))
    return verify(root, "dev", "spark", [], [], {})


def test_the_corpus_gives_the_same_tables_on_both_engines(corpus_report: VerifyReport) -> None:
    from parity_corpus import QUERIES

    assert len(QUERIES) >= 150
    assert corpus_report.failures == []
    differing = [t for t in corpus_report.tables if not t.equal]
    assert differing == [], "\n".join(map(str, differing))
    assert len(corpus_report.tables) == len(QUERIES)
    assert all(t.rows[0] > 0 for t in corpus_report.tables if t.name != "q102_not_in_with_nulls")


TYPED_SOURCES = """\
sources:
  - name: raw
    tables:
      - name: sales
        path: data/sales.csv
        format: csv
        columns:
          - {name: store_id, type: BIGINT}
          - {name: price, type: 'DECIMAL(38,2)'}
"""


def test_compile_and_docs_show_the_sql_that_runs_on_spark(tmp_path: Path) -> None:
    """Typed rewrites and DuckDB's names are in what `compile -t spark` and the docs show,
    from declared columns and the columns inferred for models (nothing has run)."""
    from glueform import Workspace

    files = {
        "glueform.yml": PROJECT,
        "sources/raw.yml": TYPED_SOURCES,
        "data/sales.csv": "store_id,price\n1,1.00\n1,2.00\n2,0.00\n",
        "transforms/ratios.sql": (
            "select store_id, sum(price) / 3, avg(price) as mean\n"
            "from {{ source('raw', 'sales') }} group by store_id order by sum(price) desc\n"
        ),
        "transforms/reader.sql": "select * from {{ ref('ratios') }}\n",
    }
    root = write_project(tmp_path / "p", files)
    result = glueform("compile", "-p", str(root), "-t", "spark")
    assert result.exit_code == 0, result.output
    compiled = (root / "target/compiled/transforms/ratios.sql").read_text()
    assert "CAST(SUM(`sales`.`price`) AS DOUBLE) / CAST(3 AS DOUBLE)" in compiled
    assert "AVG(CAST(`sales`.`price` AS DOUBLE))" in compiled
    assert "AS `glueform_output`(`store_id`, `(sum(price) / 3)`, `mean`)" in compiled
    reader = (root / "target/compiled/transforms/reader.sql").read_text()
    assert "(`store_id`, `(sum(price) / 3)`, `mean`)" in reader  # the inferred columns of ratios
    document = Workspace(root, target="spark").docs()
    text = document.parent.joinpath("data.js").read_text(encoding="utf-8")
    assert "AVG(CAST(`sales`.`price` AS DOUBLE))" in text


def test_an_engine_error_names_the_model_its_file_and_the_sql_that_ran(tmp_path: Path) -> None:
    """A Spark failure on translated SQL is not a raw AnalysisException about a view the user
    never wrote."""
    files = {
        "glueform.yml": PROJECT,
        "sources/raw.yml": TYPED_SOURCES,
        "data/sales.csv": "store_id,price\n1,1.00\n",
        "transforms/broken.sql": (
            "select store_id, jaro_winkler_similarity('abc', 'abd') as x from {{ source('raw', 'sales') }}\n"
        ),
    }
    root = write_project(tmp_path / "p", files)
    result = glueform("run", "-p", str(root), "-t", "spark")
    assert result.exit_code == 1, result.output
    assert "model broken (transforms/broken.sql) failed on spark:" in result.output
    assert "the SQL that ran on spark (translated from the model): SELECT" in result.output
    assert "JVM" not in result.output and "+- " not in result.output  # no Spark plans


@pytest.mark.parametrize(
    ("sql", "at", "message", "hint"),
    [
        (
            "select product_id from {{ source('raw', 'sales') }}\n"
            "where price > all (select price from {{ source('raw', 'sales') }})\n",
            "2:15",
            "a comparison with ALL (subquery) cannot run on Spark",
            "max() or min()",
        ),
        (
            "select list(distinct product_id order by product_id) as ids\n"
            "from {{ source('raw', 'sales') }}\n",
            "1:8",
            "list()/array_agg() of DISTINCT values cannot be made equal on Spark",
            "select the distinct values in a subquery first",
        ),
        (
            "select median(price) as m from {{ source('raw', 'sales') }}\n",
            "1:8",
            "of a DECIMAL cannot be made equal on Spark",
            "quantile_cont(cast(x as double), p)",
        ),
    ],
)
def test_typed_constructs_that_differ_are_refused(
    tmp_path: Path, sql: str, at: str, message: str, hint: str
) -> None:
    files = {
        "glueform.yml": PROJECT,
        "sources/raw.yml": TYPED_SOURCES.replace(
            "store_id, type: BIGINT", "product_id, type: BIGINT"
        ),
        "data/sales.csv": "product_id,price\n1,1.00\n",
        "transforms/refused.sql": sql,
    }
    root = write_project(tmp_path / "p", files)
    for command in (["compile", "-t", "spark"], ["validate"]):  # validate checks every target
        result = glueform(*command, "-p", str(root))
        assert result.exit_code == 2, result.output
        assert f"refused.sql:{at}" in result.stderr and message in result.stderr
        assert hint in result.stderr and "Traceback" not in result.stderr
