select order_id,
    case when amount > 10 then 'big' else 'small' as size
from {{ ref('stg_orders') }}
