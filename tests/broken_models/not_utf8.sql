select order_id,
    café as x
from {{ ref('stg_orders') }}
