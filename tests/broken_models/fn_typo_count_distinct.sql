select customer_id,
    count_distnct(order_id) as n
from {{ ref('stg_orders') }}
group by customer_id
