select order_id,
    rnd(amount, 1) as amount
from {{ ref('stg_orders') }}
