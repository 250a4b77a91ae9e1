select customer_id,
    contry
from {{ source('raw', 'customers') }}
