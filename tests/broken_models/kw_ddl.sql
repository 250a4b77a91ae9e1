create table x as
select order_id from {{ ref('stg_orders') }}
