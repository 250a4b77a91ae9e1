select customer_id,
    status,
    sum(amount) as total
from {{ ref('stg_orders') }}
group by customer_id
