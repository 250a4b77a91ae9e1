select order_id,
    row_number() as rn
from {{ ref('stg_orders') }}
