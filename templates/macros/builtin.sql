{#- Built-in macros, available in every model. A project macro of the same name replaces one. -#}

{% macro surrogate_key(columns) -%}
md5({% for c in columns %}coalesce(cast({{ c }} as varchar), '_null_'){% if not loop.last %} || '|' || {% endif %}{% endfor %})
{%- endmacro %}

{% macro safe_divide(numerator, denominator) -%}
case when ({{ denominator }}) = 0 then null else ({{ numerator }}) / ({{ denominator }}) end
{%- endmacro %}

{% macro cents_to_currency(column, scale=2) -%}
cast(({{ column }}) / 100.0 as decimal(18, {{ scale }}))
{%- endmacro %}
