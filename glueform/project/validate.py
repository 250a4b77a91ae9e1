"""JSON-Schema validation of YAML files, with errors that point at the offending line.

The schemas in ``schemas/`` (installed as ``glueform.schemas``) are the published contract (editors use them for completion);
this module is the only place that reads them.
"""

from __future__ import annotations

import difflib
import json
from functools import cache
from importlib import resources
from typing import Any

from glueform.errors import UserError, snippet_at
from glueform.project.yaml_load import YamlDoc

SCHEMA_FILES = ("project", "config", "sources", "transforms", "jobs", "crawlers")


@cache
def _validator(kind: str) -> Any:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    root = resources.files("glueform.schemas")
    registry: Registry = Registry()
    schemas = {}
    for name in SCHEMA_FILES:
        schema = json.loads((root / f"{name}.schema.json").read_text(encoding="utf-8"))
        schemas[name] = schema
        resource = Resource.from_contents(schema)
        # keyed by file name: the schemas' $refs are relative ("config.schema.json"), as an
        # editor resolves them next to the file, offline (they carry no $id URL to fetch)
        registry = registry.with_resource(f"{name}.schema.json", resource)
    return Draft202012Validator(schemas[kind], registry=registry)


def validate(doc: YamlDoc, kind: str) -> None:
    """Raise a :class:`UserError` for the first schema violation in ``doc``."""
    from jsonschema.exceptions import best_match

    error = best_match(_validator(kind).iter_errors(doc.data))
    if error is not None:
        raise _to_user_error(doc, error)


def _to_user_error(doc: YamlDoc, error: Any) -> UserError:
    at = tuple(error.absolute_path)
    where = ".".join(str(p) for p in at) or "the top level"
    validator = error.validator
    hint: str | None = None
    location = doc.location(at)
    width = 1
    if validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unexpected = sorted(set(error.instance) - set(allowed))
        key = unexpected[0] if unexpected else "?"
        location = doc.location((*at, key), key=True)
        width = len(str(key))
        message = f"unknown key '{key}' in {where}"
        close = difflib.get_close_matches(str(key), allowed, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"allowed keys: {', '.join(allowed)}"
    elif validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        message = f"missing required key '{missing}' in {where}"
        hint = f"add '{missing}: ...'"
    elif validator == "enum":
        options = [str(o) for o in error.validator_value]
        message = f"{where} must be one of {', '.join(options)}; got {error.instance!r}"
        close = difflib.get_close_matches(str(error.instance), options, n=1)
        hint = f"did you mean '{close[0]}'?" if close else None
    elif validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        message = f"{where} must be {_article(expected)}; got {_describe(error.instance)}"
        hint = f"write {where.rsplit('.', 1)[-1]} as {_article(expected)}"
    elif validator == "pattern" and "x-message" in error.schema:  # a value with its own words
        scheme = str(error.instance).partition(":")[0]
        message = f"{where}: " + error.schema["x-message"].format(scheme=scheme)
        hint = error.schema.get("x-hint")
        width = 0  # no snippet: the line may hold a password
    elif validator == "pattern":
        message = f"{where}: {error.instance!r} is not a valid name"
        hint = "use letters, digits and underscores, not starting with a digit"
    else:
        message = f"{where}: {error.message}"
    return UserError(
        message,
        location,
        hint=hint,
        snippet=snippet_at(doc.text, location.line, location.col, width) if width else None,
    )


def _article(kind: str) -> str:
    return f"an {kind}" if kind[:1] in "aeiou" else f"a {kind}"


def _describe(value: Any) -> str:
    names = {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        type(None): "null",
    }
    return f"{names.get(type(value), type(value).__name__)} ({json.dumps(value, default=str)[:40]})"


def validate_config(config: dict[str, Any], location: Any) -> None:
    """Check the keyword arguments of a model's ``config()`` call against the config schema."""
    from jsonschema.exceptions import best_match

    error = best_match(_validator("config").iter_errors(config))
    if error is None:
        return
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        key = sorted(set(error.instance) - set(allowed))[0]
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"allowed keys: {', '.join(allowed)}"
        raise UserError(f"unknown config key '{key}'", location, hint=hint)
    where = ".".join(str(p) for p in error.absolute_path) or "config"
    raise UserError(f"config(): {where}: {error.message}", location)
