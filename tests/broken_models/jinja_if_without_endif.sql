select order_id
from {{ ref('stg_orders') }}
{% if var('min_amount') > 0 %}
where amount > 0
