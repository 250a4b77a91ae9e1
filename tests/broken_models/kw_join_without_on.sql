select o.order_id
from {{ ref('stg_orders') }} o
join {{ ref('stg_customers') }} c
where o.amount > 1
