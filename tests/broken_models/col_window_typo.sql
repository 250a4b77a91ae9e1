select order_id,
    sum(amount) over (partition by customr_id) as running
from {{ ref('stg_orders') }}
