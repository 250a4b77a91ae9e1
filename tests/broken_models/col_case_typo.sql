select order_id,
    case when stauts = 'returned' then 1 else 0 end as returned
from {{ ref('stg_orders') }}
