select customer_id,
    sum(count(*)) as n
from {{ ref('stg_orders') }}
group by customer_id
