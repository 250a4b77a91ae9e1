select customer_id,
    name + 1 as n
from {{ ref('stg_customers') }}
