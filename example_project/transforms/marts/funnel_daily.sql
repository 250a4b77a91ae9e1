-- Daily web funnel: sessions -> product view -> add to cart -> checkout.
with daily as (
    select
        started_on as funnel_date,
        count(*) as sessions,
        count(*) filter (where is_logged_in) as logged_in_sessions,
        count(*) filter (where viewed_product) as product_view_sessions,
        count(*) filter (where added_to_cart) as cart_sessions,
        count(*) filter (where reached_checkout) as checkout_sessions
    from {{ ref('int_customer_sessions') }}
    group by started_on
)

select
    funnel_date,
    sessions,
    logged_in_sessions,
    product_view_sessions,
    cart_sessions,
    checkout_sessions,
    round({{ safe_divide('cart_sessions', 'product_view_sessions') }}, 4) as view_to_cart_rate,
    round({{ safe_divide('checkout_sessions', 'cart_sessions') }}, 4) as cart_to_checkout_rate,
    round({{ safe_divide('checkout_sessions', 'sessions') }}, 4) as session_conversion_rate,
    round({{ safe_divide(
        'sum(checkout_sessions) over (order by funnel_date rows between 6 preceding and current row)',
        'sum(sessions) over (order by funnel_date rows between 6 preceding and current row)'
    ) }}, 4) as session_conversion_rate_7d
from daily
