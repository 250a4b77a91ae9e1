select customer_id,
    date_trunc('month', name) as m
from {{ ref('stg_customers') }}
