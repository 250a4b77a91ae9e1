select order_id,
    cast(amount as integr) as amount
from {{ ref('stg_orders') }}
