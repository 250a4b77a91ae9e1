"""Python transforms: a function over DataFrames, written once in the PySpark DataFrame API.

On Spark it runs on PySpark; on DuckDB on sqlframe, which turns the same calls into SQL that
the engine runs (no rows pass through Python). Its parameters name its inputs::

    from glueform.transforms import F, transform

    @transform(materialized="table", tags=["python"])
    def customer_orders(stg_orders, raw__customers, ctx):
        return stg_orders.groupBy("customer_id").agg(F.count("*").alias("orders"))

A parameter named like a model reads it (a ref); ``source__table`` reads a source table;
``ctx`` gives ``ctx.vars``, ``ctx.engine``, ``ctx.ref(name)`` and ``ctx.source(src, table)``.
"""

from glueform.transforms.api import F, TransformContext, transform

__all__ = ["F", "TransformContext", "transform"]
