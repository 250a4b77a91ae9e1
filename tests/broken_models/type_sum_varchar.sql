select customer_id,
    sum(name) as n
from {{ ref('stg_customers') }}
group by customer_id
