-- One row per customer with order history, lifetime value and web activity.
with orders as (
    select
        customer_id,
        order_id,
        ordered_at,
        status,
        is_revenue,
        revenue_amount,
        row_number() over (partition by customer_id order by ordered_at desc, order_id desc) as recency_rank
    from {{ ref('fct_orders') }}
),

customer_orders as (
    select
        customer_id,
        count(*) as order_count,
        count(*) filter (where is_revenue) as revenue_order_count,
        count(*) filter (where status = 'returned') as returned_order_count,
        sum(revenue_amount) as lifetime_value,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at,
        arg_min(order_id, ordered_at) as first_order_id,
        max(order_id) filter (where recency_rank = 1) as last_order_id,
        max(status) filter (where recency_rank = 1) as last_order_status
    from orders
    group by customer_id
),

customer_sessions as (
    select
        customer_id,
        count(*) as session_count,
        max(started_at) as last_seen_at
    from {{ ref('int_customer_sessions') }}
    where customer_id is not null
    group by customer_id
)

select
    c.customer_id,
    c.full_name,
    c.email,
    c.country_code,
    c.signed_up_at,
    coalesce(o.order_count, 0) as order_count,
    coalesce(o.revenue_order_count, 0) as revenue_order_count,
    coalesce(o.returned_order_count, 0) as returned_order_count,
    coalesce(o.lifetime_value, 0) as lifetime_value,
    -- rounded half up in whole cents with exact integer steps, so both engines agree to the cent
    cast(
        floor((o.lifetime_value * 200 + o.revenue_order_count) / nullif(2 * o.revenue_order_count, 0)) / 100
        as decimal(18, 2)
    ) as average_order_value,
    o.first_order_id,
    o.first_order_at,
    o.last_order_id,
    o.last_order_at,
    o.last_order_status,
    date_diff('day', c.signed_up_at, o.first_order_at) as days_to_first_order,
    coalesce(s.session_count, 0) as session_count,
    s.last_seen_at,
    case when o.customer_id is not null then
        ntile(4) over (partition by o.customer_id is null order by o.lifetime_value, c.customer_id)
    end as value_quartile,
    case
        when o.customer_id is null then 'prospect'
        when o.revenue_order_count >= 5 then 'loyal'
        when o.revenue_order_count >= 2 then 'repeat'
        else 'one_time'
    end as customer_segment,
    rank() over (order by coalesce(o.lifetime_value, 0) desc) as lifetime_value_rank
from {{ ref('stg_customers') }} as c
left join customer_orders as o on o.customer_id = c.customer_id
left join customer_sessions as s on s.customer_id = c.customer_id
