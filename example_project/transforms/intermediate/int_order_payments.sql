-- Payments rolled up per order (an order may be split over a gift card and a card).
select
    order_id,
    count(*) as payment_count,
    cast(sum(amount_cents) as bigint) as amount_paid_cents,
    min(paid_at) as first_paid_at,
    max(paid_at) as last_paid_at,
    arg_max(payment_method, amount_cents) as main_payment_method,
    bool_or(payment_method = 'gift_card') as used_gift_card,
    max(card_brand) as card_brand
from {{ ref('stg_payments') }}
group by order_id
