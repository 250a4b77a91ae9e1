select order_id,
    amont
from {{ ref('stg_orders') }}
