select order_id
from from {{ ref('stg_orders') }}
