select order_id
form {{ ref('stg_orders') }}
