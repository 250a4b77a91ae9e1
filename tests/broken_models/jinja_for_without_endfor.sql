select order_id,
{% for c in ['a', 'b'] %}
    1 as {{ c }},
from {{ ref('stg_orders') }}
