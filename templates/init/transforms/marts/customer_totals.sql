{{ config(tags=['marts']) }}
select
    customer,
    count(*) as orders,
    sum(amount) as total_amount,
    min(ordered_at) as first_order
from {{ ref('stg_orders') }}
group by customer
