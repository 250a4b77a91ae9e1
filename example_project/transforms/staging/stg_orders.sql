select
    cast(order_id as bigint) as order_id,
    cast(customer_id as bigint) as customer_id,
    cast(ordered_at as timestamp) as ordered_at,
    cast(ordered_at as date) as ordered_on,
    lower(trim(status)) as status,
    {{ status_is_final('lower(trim(status))') }} as is_final
from {{ source('raw', 'orders') }}
where cast(ordered_at as date) between date '{{ var("start_date") }}' and date '{{ var("end_date") }}'
