select customer_id,
    smu(amount) as total
from {{ ref('stg_orders') }}
group by customer_id
