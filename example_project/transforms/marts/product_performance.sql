-- One row per product: sales, returns, web interest and rank within its category.
with sales as (
    select
        product_id,
        count(distinct order_id) filter (where {{ is_revenue_status('status') }}) as orders,
        cast(coalesce(sum(quantity) filter (where {{ is_revenue_status('status') }}), 0) as bigint) as units_sold,
        cast(coalesce(sum(line_amount_cents) filter (where {{ is_revenue_status('status') }}), 0) as bigint) as revenue_cents,
        cast(coalesce(sum(quantity) filter (where status = 'returned'), 0) as bigint) as units_returned,
        cast(coalesce(sum(quantity) filter (where status <> 'cancelled'), 0) as bigint) as units_delivered_or_pending
    from {{ ref('int_order_lines') }}
    group by product_id
),

views as (
    select product_id, count(*) as page_views, count(distinct session_id) as viewing_sessions
    from {{ ref('stg_web_events') }}
    where event_type = 'page_view' and product_id is not null
    group by product_id
)

select
    p.product_id,
    p.product_name,
    p.category,
    p.price,
    coalesce(s.orders, 0) as orders,
    coalesce(s.units_sold, 0) as units_sold,
    {{ cents_to_amount('coalesce(s.revenue_cents, 0)') }} as revenue,
    coalesce(s.units_returned, 0) as units_returned,
    round(s.units_returned / nullif(s.units_delivered_or_pending, 0), 4) as return_rate,
    coalesce(v.page_views, 0) as page_views,
    coalesce(v.viewing_sessions, 0) as viewing_sessions,
    rank() over (partition by p.category order by coalesce(s.revenue_cents, 0) desc) as category_revenue_rank,
    round(
        coalesce(s.revenue_cents, 0) / nullif(sum(coalesce(s.revenue_cents, 0)) over (partition by p.category), 0),
        4
    ) as category_revenue_share
from {{ ref('stg_products') }} as p
left join sales as s on s.product_id = p.product_id
left join views as v on v.product_id = p.product_id
