select order_id
from stg_orders
