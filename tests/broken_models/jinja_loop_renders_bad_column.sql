select order_id{% for c in ['amount', 'amont'] %},
    {{ c }}{% endfor %}
from {{ ref('stg_orders') }}
