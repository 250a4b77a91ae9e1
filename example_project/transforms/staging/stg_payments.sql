-- The provider export re-sends some payments: keep one row per payment_id.
select
    cast(payment_id as bigint) as payment_id,
    cast(order_id as bigint) as order_id,
    lower(method) as payment_method,
    cast(amount_cents as bigint) as amount_cents,
    cast(paid_at as timestamp) as paid_at,
    card.brand as card_brand,
    card.last4 as card_last4
from {{ source('raw', 'payments') }}
qualify row_number() over (partition by payment_id order by paid_at) = 1
