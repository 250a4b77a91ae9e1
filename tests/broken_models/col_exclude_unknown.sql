select * exclude (ammount)
from {{ ref('stg_orders') }}
