select order_id
from {{ ref('stg_orders') }}
wher amount > 5
