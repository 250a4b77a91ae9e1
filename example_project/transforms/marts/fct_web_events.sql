{#- The web tracker drops one NDJSON file per month under data/raw/web_events/. This table grows
    with them: its file bookmark reads only the files added (or changed) since the last committed
    run, and merge on event_id keeps a re-sent or rewritten file from duplicating events. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='merge',
    unique_key='event_id',
    bookmark='enable',
    tags=['web'],
) }}
select
    event_id,
    session_id,
    customer_id,
    lower(event_type) as event_type,
    split_part(url, '?', 1) as page_path,
    cast(occurred_at as date) as occurred_on,
    occurred_at
from {{ source('raw', 'web_events') }}
