select
    cast(order_id as bigint) as order_id,
    cast(line_no as integer) as line_no,
    cast(product_id as bigint) as product_id,
    cast(quantity as integer) as quantity
from {{ source('raw', 'order_items') }}
where quantity > 0
