-- One row per web session, with funnel flags and per-customer session sequence.
with events as (
    select
        *,
        row_number() over (partition by session_id order by occurred_at, event_id) as event_seq
    from {{ ref('stg_web_events') }}
),

sessions as (
    select
        session_id,
        max(customer_id) as customer_id,
        min(occurred_at) as started_at,
        max(occurred_at) as ended_at,
        count(*) as event_count,
        count(*) filter (where event_type = 'page_view') as page_views,
        count(*) filter (where product_id is not null and event_type = 'page_view') as product_views,
        max(page_path) filter (where event_seq = 1) as landing_page,
        max(utm_source) filter (where event_seq = 1) as utm_source,
        bool_or(event_type = 'add_to_cart') as added_to_cart,
        bool_or(event_type = 'checkout') as reached_checkout
    from events
    group by session_id
)

select
    session_id,
    customer_id,
    customer_id is not null as is_logged_in,
    started_at,
    ended_at,
    cast(started_at as date) as started_on,
    date_diff('second', started_at, ended_at) as duration_seconds,
    event_count,
    page_views,
    product_views,
    landing_page,
    coalesce(utm_source, 'direct') as traffic_source,
    product_views > 0 as viewed_product,
    added_to_cart,
    reached_checkout,
    case when customer_id is not null then
        row_number() over (partition by customer_id order by started_at, session_id)
    end as customer_session_number,
    case when customer_id is not null then
        date_diff(
            'day',
            lag(started_at) over (partition by customer_id order by started_at, session_id),
            started_at
        )
    end as days_since_previous_session
from sessions
