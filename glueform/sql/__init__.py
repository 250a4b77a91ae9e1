"""The SQL layer: the only package that imports sqlglot (inside its functions, so that a fully
cached compile never loads it).

``quoting`` spells names and values, ``parsing`` reads a model's query, ``types`` knows column
types and the storage type every engine writes, ``lineage`` infers output columns and where they
come from, ``parity`` rewrites a query so it means the same on another engine.
"""

from glueform.sql.lineage import ColumnRef, QueryColumns, column_lineage, infer_columns
from glueform.sql.parity import ParityError, transpile
from glueform.sql.parsing import (
    Schema,
    TableRef,
    output_names,
    parse_query,
    qualified,
    referenced_tables,
    replace_relations,
)
from glueform.sql.quoting import (
    literal,
    null_safe_equal,
    quote_identifier,
    quote_relation,
    string_literal,
)
from glueform.sql.types import (
    cast_columns,
    normalize_type,
    storage_type,
    stored_types,
    type_sql,
)

__all__ = [
    "ColumnRef",
    "ParityError",
    "QueryColumns",
    "Schema",
    "TableRef",
    "cast_columns",
    "column_lineage",
    "infer_columns",
    "literal",
    "normalize_type",
    "null_safe_equal",
    "output_names",
    "parse_query",
    "qualified",
    "quote_identifier",
    "quote_relation",
    "referenced_tables",
    "replace_relations",
    "storage_type",
    "stored_types",
    "string_literal",
    "transpile",
    "type_sql",
]
