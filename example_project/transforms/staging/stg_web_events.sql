select
    cast(event_id as bigint) as event_id,
    session_id,
    cast(customer_id as bigint) as customer_id,
    lower(event_type) as event_type,
    url,
    split_part(url, '?', 1) as page_path,
    nullif(regexp_extract(url, 'utm_source=([^&]+)', 1), '') as utm_source,
    case
        when split_part(url, '?', 1) like '/products/%'
            then try_cast(split_part(split_part(url, '?', 1), '/', 3) as bigint)
    end as product_id,
    cast(occurred_at as timestamp) as occurred_at,
    cast(occurred_at as date) as occurred_on
from {{ source('raw', 'web_events') }}
where cast(occurred_at as date) between date '{{ var("start_date") }}' and date '{{ var("end_date") }}'
