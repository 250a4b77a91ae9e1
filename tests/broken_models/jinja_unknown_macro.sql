select order_id,
    {{ cents_to_dolars('amount') }} as dollars
from {{ ref('stg_orders') }}
