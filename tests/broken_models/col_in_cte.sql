with big as (
    select order_id, amount
    from {{ ref('stg_orders') }}
    where amount > 10
)
select order_id, status
from big
