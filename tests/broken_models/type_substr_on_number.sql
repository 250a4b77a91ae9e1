select order_id,
    substr(amount, 1, 2) as head
from {{ ref('stg_orders') }}
