select order_id,
    date_trnc('month', ordered_at) as month
from {{ ref('stg_orders') }}
