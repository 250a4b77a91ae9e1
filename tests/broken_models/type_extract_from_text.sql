select customer_id,
    extract(year from name) as y
from {{ ref('stg_customers') }}
