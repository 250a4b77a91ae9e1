select order_id,
    row_numbr() over (order by order_id) as rn
from {{ ref('stg_orders') }}
