select o.order_id
from {{ ref('stg_orders') }} o
join {{ ref('stg_customers') }} c
  on o.ordered_at = c.customer_id
