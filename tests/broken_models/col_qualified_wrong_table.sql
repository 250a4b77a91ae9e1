select o.order_id,
    o.name
from {{ ref('stg_orders') }} o
join {{ ref('stg_customers') }} c using (customer_id)
