-- Order-level totals from the priced order lines.
-- The main category is the one of the largest line; ties go to the first category by name, so
-- DuckDB and Spark agree (arg_max alone would pick either).
with ranked as (
    select
        *,
        row_number() over (
            partition by order_id order by line_amount_cents desc, category
        ) as line_rank
    from {{ ref('int_order_lines') }}
)

select
    order_id,
    count(*) as line_count,
    cast(sum(quantity) as bigint) as unit_count,
    count(distinct category) as category_count,
    cast(sum(line_amount_cents) as bigint) as order_amount_cents,
    max(line_amount_cents) as largest_line_cents,
    max(case when line_rank = 1 then category end) as main_category
from ranked
group by order_id
