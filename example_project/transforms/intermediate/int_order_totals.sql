-- Order-level totals from the priced order lines.
select
    order_id,
    count(*) as line_count,
    cast(sum(quantity) as bigint) as unit_count,
    count(distinct category) as category_count,
    cast(sum(line_amount_cents) as bigint) as order_amount_cents,
    max(line_amount_cents) as largest_line_cents,
    arg_max(category, line_amount_cents) as main_category
from {{ ref('int_order_lines') }}
group by order_id
