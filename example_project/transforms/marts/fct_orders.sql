{{ config(materialized='table', tags=['finance', 'nightly'], partition_by=['order_month']) }}

-- One row per order with amounts, payment status and the customer's order sequence.
with orders as (
    select
        o.order_id,
        o.customer_id,
        o.ordered_at,
        o.ordered_on,
        o.status,
        o.is_final,
        {{ is_revenue_status('o.status') }} as is_revenue,
        t.line_count,
        t.unit_count,
        t.main_category,
        coalesce(t.order_amount_cents, 0) as order_amount_cents,
        coalesce(p.amount_paid_cents, 0) as amount_paid_cents,
        coalesce(p.payment_count, 0) as payment_count,
        p.main_payment_method,
        coalesce(p.used_gift_card, false) as used_gift_card,
        p.last_paid_at
    from {{ ref('stg_orders') }} as o
    left join {{ ref('int_order_totals') }} as t on t.order_id = o.order_id
    left join {{ ref('int_order_payments') }} as p on p.order_id = o.order_id
)

select
    order_id,
    customer_id,
    ordered_at,
    ordered_on,
    cast(date_trunc('month', ordered_on) as date) as order_month,
    status,
    is_final,
    is_revenue,
    line_count,
    unit_count,
    main_category,
    '{{ var("currency") }}' as currency,
    {{ cents_to_amount('order_amount_cents') }} as order_amount,
    {{ cents_to_amount('amount_paid_cents') }} as amount_paid,
    {{ cents_to_amount('case when is_revenue then order_amount_cents else 0 end') }} as revenue_amount,
    {{ cents_to_amount("case when status = 'returned' then order_amount_cents else 0 end") }} as refunded_amount,
    case
        when payment_count = 0 then 'unpaid'
        when amount_paid_cents < order_amount_cents then 'partially_paid'
        else 'paid'
    end as payment_status,
    payment_count,
    main_payment_method,
    used_gift_card,
    date_diff('minute', ordered_at, last_paid_at) as minutes_to_paid,
    row_number() over (partition by customer_id order by ordered_at, order_id) as customer_order_number,
    date_diff(
        'day',
        lag(ordered_at) over (partition by customer_id order by ordered_at, order_id),
        ordered_at
    ) as days_since_previous_order
from orders
