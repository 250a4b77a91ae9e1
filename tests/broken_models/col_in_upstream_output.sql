select customer_id,
    total_amount
from {{ ref('customer_totals') }}
