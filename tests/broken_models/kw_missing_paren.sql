select order_id,
    round(amount, 2 as amount
from {{ ref('stg_orders') }}
