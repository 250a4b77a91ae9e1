-- One row per order line, priced with the product's unit price.
select
    {{ surrogate_key(['i.order_id', 'i.line_no']) }} as order_line_key,
    i.order_id,
    i.line_no,
    o.customer_id,
    o.ordered_at,
    o.ordered_on,
    o.status,
    i.product_id,
    p.product_name,
    p.category,
    i.quantity,
    p.price_cents as unit_price_cents,
    cast(i.quantity as bigint) * p.price_cents as line_amount_cents
from {{ ref('stg_order_items') }} as i
join {{ ref('stg_orders') }} as o on o.order_id = i.order_id
join {{ ref('stg_products') }} as p on p.product_id = i.product_id
