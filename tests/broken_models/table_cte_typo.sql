with recent as (
    select * from {{ ref('stg_orders') }}
)
select order_id
from recnet
