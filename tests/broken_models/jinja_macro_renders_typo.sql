select order_id,
    {{ typo_column() }} as x
from {{ ref('stg_orders') }}
