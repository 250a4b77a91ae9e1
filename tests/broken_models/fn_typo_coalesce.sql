select order_id,
    coalese(status, 'none') as status
from {{ ref('stg_orders') }}
