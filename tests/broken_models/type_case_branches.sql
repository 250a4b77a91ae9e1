select order_id,
    case when amount > 10 then amount else 'none' end as x
from {{ ref('stg_orders') }}
