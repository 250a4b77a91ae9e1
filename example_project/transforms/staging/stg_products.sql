select
    cast(product_id as bigint) as product_id,
    trim(name) as product_name,
    lower(trim(category)) as category,
    cast(price_cents as integer) as price_cents,
    {{ cents_to_amount('price_cents') }} as price
from {{ source('raw', 'products') }}
