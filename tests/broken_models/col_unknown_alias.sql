select order_id,
    x.amount
from {{ ref('stg_orders') }} o
