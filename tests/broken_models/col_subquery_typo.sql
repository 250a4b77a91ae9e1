select order_id
from (
    select order_id, amount from {{ ref('stg_orders') }}
) t
where t.ammount > 5
