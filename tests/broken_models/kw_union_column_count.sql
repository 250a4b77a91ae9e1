select order_id, amount from {{ ref('stg_orders') }}
union all
select customer_id from {{ ref('stg_customers') }}
