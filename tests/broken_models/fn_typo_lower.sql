select customer_id,
    lowr(name) as name
from {{ ref('stg_customers') }}
