select
    order_id,
    lower(customer) as customer,
    cast(amount as decimal(18, 2)) as amount,
    cast(ordered_at as date) as ordered_at
from {{ source('raw', 'orders') }}
where amount > {{ var('min_amount') }}
