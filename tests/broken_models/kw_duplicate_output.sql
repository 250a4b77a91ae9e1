select order_id,
    amount as total,
    amount * 2 as TOTAL
from {{ ref('stg_orders') }}
