select order_id
from {{ ref('stg_orders') }}
where ordered_at > date '2024-13-45'
