select customer_id, count(*) as n
from {{ ref('stg_orders') }}
gruop by customer_id
