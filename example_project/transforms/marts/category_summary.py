"""Per product category: products, units sold, revenue and the best seller.

A Python transform: the PySpark DataFrame API, run by PySpark on the spark target and turned
into SQL by sqlframe on DuckDB. Its parameter names the model it reads.
"""

from glueform.transforms import F, transform


@transform(tags=["python"], columns={"products": "BIGINT", "units_sold": "BIGINT"})
def category_summary(product_performance):
    totals = product_performance.groupBy("category").agg(
        F.count("*").alias("products"),
        F.sum("units_sold").alias("units_sold"),
        F.sum("revenue").alias("revenue"),
    )
    best = (
        product_performance.where(F.col("category_revenue_rank") == 1)
        .groupBy("category")
        .agg(F.min("product_name").alias("best_seller"))
    )
    return totals.join(best, "category", "left")
