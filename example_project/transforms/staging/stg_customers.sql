select
    cast(customer_id as bigint) as customer_id,
    trim(first_name) as first_name,
    trim(last_name) as last_name,
    trim(first_name) || ' ' || trim(last_name) as full_name,
    lower(trim(email)) as email,
    upper(trim(country)) as country_code,
    cast(signed_up_at as timestamp) as signed_up_at,
    cast(signed_up_at as date) as signed_up_on
from {{ source('raw', 'customers') }}
