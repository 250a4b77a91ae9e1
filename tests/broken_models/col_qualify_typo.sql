select order_id, customer_id
from {{ ref('stg_orders') }}
qualify row_number() over (partition by customer_id order by orderd_at) = 1
