select order_id
from {{ source('raw', 'ordrs') }}
