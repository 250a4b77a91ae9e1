"""Crawlers: list files (local folders, S3) or SQL databases, classify them by content, infer and
merge their schemas, group them into tables and partitions as AWS Glue does, and apply what was
found to the catalog per the crawler's policies, in one transaction, incrementally if asked.

listing → classify (parquet, avro, text) → schema (merge, widen) → tables (grouping) → policy
(diff against the catalog) → ``catalog/crawls.py`` (one transaction) — ``crawler.py`` wires them.
"""
