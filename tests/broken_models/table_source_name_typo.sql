select order_id
from {{ source('rwa', 'orders') }}
