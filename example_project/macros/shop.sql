{# Shop-specific macros, callable from every model. #}

{# Integer cents -> DECIMAL(18, 2) amount in the shop currency. #}
{% macro cents_to_amount(col) -%}
    cast({{ col }} / 100.0 as decimal(18, 2))
{%- endmacro %}

{# True once an order can no longer change. #}
{% macro status_is_final(col) -%}
    ({{ col }} in ('completed', 'returned', 'cancelled'))
{%- endmacro %}

{# True for orders that count as revenue (not cancelled, not returned). #}
{% macro is_revenue_status(col) -%}
    ({{ col }} in ('placed', 'shipped', 'completed'))
{%- endmacro %}
