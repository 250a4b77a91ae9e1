select customer_id
from {{ ref('stg_orders') }}
where sum(amount) > 10
group by customer_id
