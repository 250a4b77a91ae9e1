select customer_id,
    count(distinct) as n
from {{ ref('stg_orders') }}
group by customer_id
