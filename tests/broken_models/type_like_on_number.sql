select order_id
from {{ ref('stg_orders') }}
where amount like '1%'
