select order_id,
    ordered_at + interval 1 dya as later
from {{ ref('stg_orders') }}
