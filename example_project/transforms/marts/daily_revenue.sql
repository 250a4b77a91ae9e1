-- One row per calendar day of the reporting period, including days without orders.
with day_series as (
    -- generate_series includes both ends (and becomes Spark's sequence on -t spark)
    select unnest(generate_series(date '{{ var("start_date") }}', date '{{ var("end_date") }}', interval 1 day)) as day
),

days as (
    select cast(day as date) as revenue_date
    from day_series
),

daily as (
    select
        ordered_on,
        count(*) as orders,
        count(*) filter (where is_revenue) as revenue_orders,
        count(*) filter (where customer_order_number = 1) as new_customer_orders,
        count(distinct customer_id) as customers,
        sum(order_amount) as gross_amount,
        sum(revenue_amount) as revenue,
        sum(refunded_amount) as refunded
    from {{ ref('fct_orders') }}
    group by ordered_on
)

select
    d.revenue_date,
    '{{ var("currency") }}' as currency,
    coalesce(r.orders, 0) as orders,
    coalesce(r.revenue_orders, 0) as revenue_orders,
    coalesce(r.new_customer_orders, 0) as new_customer_orders,
    coalesce(r.customers, 0) as customers,
    coalesce(r.gross_amount, 0) as gross_amount,
    coalesce(r.revenue, 0) as revenue,
    coalesce(r.refunded, 0) as refunded,
    cast(avg(coalesce(r.revenue, 0)) over (
        order by d.revenue_date rows between 6 preceding and current row
    ) as decimal(18, 2)) as revenue_7d_avg,
    sum(coalesce(r.revenue, 0)) over (
        partition by date_trunc('month', d.revenue_date) order by d.revenue_date
    ) as revenue_month_to_date,
    sum(coalesce(r.revenue, 0)) over (order by d.revenue_date) as revenue_cumulative
from days as d
left join daily as r on r.ordered_on = d.revenue_date
