select order_id
from {{ ref('stg_orders') }}
where amount between 1 or 10
