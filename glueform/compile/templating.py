"""The Jinja environment models are rendered with.

``ref()``, ``source()`` and ``this`` render to placeholders that the compiler swaps for quoted
relation names once every model's config (and so its database) is known; this keeps a model's
rendering independent of the others, which is what makes the compile cache safe.

A render is bounded (``sandbox.py``): a template that would build an enormous value, loop
without end or nest brackets deeper than the SQL parser can follow is a user error at its line.
"""

from __future__ import annotations

import os
import re
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glueform.errors import SourceLocation, UserError, locate, quoted, snippet_at
from glueform.project.model import MacroFile

if TYPE_CHECKING:
    import jinja2

    from glueform.compile.sandbox import BoundedSandbox, RenderLimits

REF_TOKEN = "\x00ref:{}\x00"
SOURCE_TOKEN = "\x00source:{}.{}\x00"
TOKEN_RE = re.compile("\x00(ref|source):([^\x00]+)\x00")
# Models that only call ref()/source() (most of them) skip Jinja entirely, as dbt's static parser does.
_SIMPLE_CALL = re.compile(
    r"""\{\{\s*(?:ref\(\s*(['"])(?P<ref>\w+)\1\s*\)"""
    r"""|source\(\s*(['"])(?P<src>\w+)\3\s*,\s*(['"])(?P<tbl>\w+)\5\s*\))\s*\}\}"""
)
_MISSING = object()
# brackets, and what may hold brackets that do not nest: strings, quoted names, comments
_BRACKETS = re.compile(r"[()\[\]{}]|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.S)


@dataclass
class Rendered:
    """What rendering one model produced: SQL with placeholders, and what it asked for."""

    sql: str
    refs: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    # env_var() reads: name -> digest of the value (for the cache; the value is a secret)
    env: dict[str, str | None] = field(default_factory=dict)
    column_types: dict[str, str] = field(default_factory=dict)  # @transform(columns=...) of .py
    outputs: list[str] = field(default_factory=list)  # @transform(outputs=[...]) of .py
    incremental_sql: str | None = None  # an incremental model rendered with is_incremental()


class Renderer:
    """Renders model SQL; one per compile, holding the environment and the macro files."""

    def __init__(
        self,
        vars: Mapping[str, Any],
        macros: tuple[MacroFile, ...],
        env: Mapping[str, str] | None = None,
        limits: RenderLimits | None = None,
    ) -> None:
        self.vars = dict(vars)
        self.os_env = os.environ if env is None else env
        self.macros = macros
        self._limits = limits

    @cached_property
    def limits(self) -> RenderLimits:
        from glueform.compile.sandbox import RenderLimits

        return self._limits or RenderLimits()

    @cached_property
    def env(self) -> BoundedSandbox:
        """Jinja is only imported when a model needs more than the static fast path."""
        from jinja2 import StrictUndefined

        from glueform.compile.sandbox import BoundedSandbox

        return BoundedSandbox(
            self.limits, undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False
        )

    @cached_property
    def macro_templates(self) -> list[jinja2.Template]:
        builtin = resources.files("glueform.templates") / "macros" / "builtin.sql"
        files = [
            MacroFile(Path("<builtin>/macros/builtin.sql"), builtin.read_text("utf-8")),
            *self.macros,
        ]
        return [self._compile(m.text, m.path) for m in files]

    def render(
        self,
        text: str,
        path: Path,
        name: str,
        source_exists: Callable[[str, str], bool],
        incremental: bool = False,
    ) -> Rendered:
        """``incremental``: what ``is_incremental()`` returns (an incremental model is rendered
        both ways at compile time; the run picks one). An error never shows the value of a
        variable the model read."""
        out = Rendered("")
        try:
            return self._render(out, text, path, name, source_exists, incremental)
        except UserError as exc:
            from glueform.secrets import Secrets

            raise Secrets.from_environ(self.os_env, out.env).redact_error(exc) from None

    def _render(
        self,
        out: Rendered,
        text: str,
        path: Path,
        name: str,
        source_exists: Callable[[str, str], bool],
        incremental: bool,
    ) -> Rendered:
        context = self._context(out, text, path, name, source_exists, incremental)
        if "{%" not in text and "{#" not in text:
            calls = _SIMPLE_CALL.findall(text)
            if len(calls) == text.count("{{"):
                out.sql = _SIMPLE_CALL.sub(lambda m: _static_call(m, context), text)
                self._check_shape(out.sql, text, path)
                return out
        import jinja2

        try:
            self.env.start()
            template = self._compile(text, path)
            shared: dict[str, Any] = dict(self.env.globals, **context)
            for macro_template in self.macro_templates:
                module = macro_template.make_module(shared, shared=True)
                shared.update(
                    {k: getattr(module, k) for k in module.__dict__ if not k.startswith("_")}
                )
            out.sql = template.render(shared)
        except UserError:
            raise
        except jinja2.TemplateSyntaxError as exc:
            raise _template_error(exc, exc.lineno, Path(exc.filename or path)) from None
        except Exception as exc:  # errors raised while rendering: undefined names, bad calls
            line, where = _template_line(exc, path)
            raise _template_error(exc, line, where) from None
        self._check_shape(out.sql, text, path)
        return out

    def _check_shape(self, sql: str, text: str, path: Path) -> None:
        """The rendered SQL's size, and how deep its brackets nest (the SQL parser and the
        optimizer recurse per level: beyond some 40 levels they fail)."""
        limits = self.limits
        if len(sql) > limits.max_chars:
            raise UserError(
                f"the model renders to {len(sql):,} characters (at most {limits.max_chars:,})",
                SourceLocation(path, 1, 1),
                hint="split the model, or generate less SQL in its Jinja",
            )
        if sql.count("(") + sql.count("[") + sql.count("{") <= limits.max_nesting:
            return
        depth, offset = _deepest(sql, limits.max_nesting)
        if depth > limits.max_nesting:
            line = sql.count("\n", 0, offset) + 1
            col = offset - sql.rfind("\n", 0, offset)
            if len(text.splitlines()) != len(sql.splitlines()):
                line, col = min(line, max(len(text.splitlines()), 1)), 1
            raise UserError(
                f"brackets nested {depth:,} deep in the SQL (at most {limits.max_nesting})",
                SourceLocation(path, line, col),
                hint="name the inner parts with CTEs (with x as (...)) instead of nesting them",
                snippet=snippet_at(text, line, col),
            )

    def _compile(self, text: str, path: Path) -> jinja2.Template:
        import jinja2

        try:
            tree = self.env.parse_bounded(text, str(path), str(path))
            code = self.env.compile(tree, name=str(path), filename=str(path))
        except jinja2.TemplateSyntaxError as exc:
            raise _template_error(exc, exc.lineno, path, text) from None
        return self.env.template_class.from_code(self.env, code, self.env.globals)

    def _context(
        self,
        out: Rendered,
        text: str,
        path: Path,
        name: str,
        source_exists: Callable[[str, str], bool],
        incremental: bool = False,
    ) -> dict[str, Any]:
        def ref(model: str, version: Any = None) -> str:
            if model not in out.refs:
                out.refs.append(model)
            return REF_TOKEN.format(model)

        def source(source_name: str, table_name: str) -> str:
            if not source_exists(source_name, table_name):
                raise _call_error(
                    text,
                    path,
                    table_name,
                    f"source('{source_name}', '{table_name}') is not declared",
                    "declare it under sources: in sources/*.yml",
                )
            key = f"{source_name}.{table_name}"
            if key not in out.sources:
                out.sources.append(key)
            return SOURCE_TOKEN.format(source_name, table_name)

        def lookup(values: Mapping[str, Any], name: str, default: Any, what: str, hint: str) -> Any:
            if name in values:
                return values[name]
            if default is _MISSING:
                raise _call_error(text, path, name, what, hint)
            return default

        def var(var_name: str, default: Any = _MISSING) -> Any:
            hint = "set it under vars: in glueform.yml, pass --var, or give a default"
            return lookup(self.vars, var_name, default, f"var('{var_name}') has no value", hint)

        def env_var(var_name: str, default: Any = _MISSING) -> Any:
            from glueform.compile.cache import env_stamp

            out.env[var_name] = env_stamp(self.os_env.get(var_name))
            what = f"environment variable {var_name} is not set"
            return lookup(
                self.os_env, var_name, default, what, "export it or give env_var() a default"
            )

        def config(**kwargs: Any) -> str:
            out.config.update(kwargs)
            return ""

        return {
            "ref": ref,
            "source": source,
            "var": var,
            "env_var": env_var,
            "config": config,
            "this": REF_TOKEN.format(name),
            "is_incremental": lambda: incremental,
            "model_name": name,
        }


def _deepest(sql: str, bound: int) -> tuple[int, int]:
    """How deep brackets nest in ``sql`` (outside strings and comments), and where they first
    nest deeper than ``bound``."""
    depth = deepest = 0
    where = -1
    for match in _BRACKETS.finditer(sql):
        char = match.group()
        if char in "([{":
            depth += 1
            deepest = max(depth, deepest)
            if depth > bound and where < 0:
                where = match.start()
        elif char in ")]}":
            depth = max(depth - 1, 0)
    return deepest, where


def _static_call(match: re.Match[str], context: dict[str, Any]) -> str:
    if match["ref"]:
        return str(context["ref"](match["ref"]))
    return str(context["source"](match["src"], match["tbl"]))


def _call_error(text: str, path: Path, name: str, message: str, hint: str) -> UserError:
    """An error pointing at the quoted argument ``name`` of a call in the model's text."""
    loc = locate(text, path, *quoted(name), skip=1)  # past the opening quote
    return UserError(
        message, loc, hint=hint, snippet=snippet_at(text, loc.line, loc.col, len(name))
    )


def _template_line(exc: Exception, path: Path) -> tuple[int, Path]:
    """The template line an exception was raised at, from the frames Jinja rewrote."""
    frames = traceback.extract_tb(exc.__traceback__)
    for frame in reversed(frames):
        if frame.filename == str(path) or frame.filename.endswith(".sql"):
            return frame.lineno or 1, Path(frame.filename)
    return 1, path


def _template_error(
    exc: Exception, line: int | None, path: Path, text: str | None = None
) -> UserError:
    import jinja2

    line = line or 1
    message = getattr(exc, "message", None) or str(exc)
    if isinstance(exc, jinja2.UndefinedError):
        hint = "define it, pass it as a macro argument, or use var() for project values"
    elif isinstance(exc, jinja2.TemplateSyntaxError):
        hint = "check the {{ }}, {% %} and {# #} pairs on or before this line"
    else:
        hint = None
    if text is None and path.is_file():
        text = path.read_text(encoding="utf-8")
    if text and isinstance(exc, jinja2.TemplateSyntaxError) and "Unexpected end" in message:
        line = _unclosed_block_line(text) or line  # the end of the file says nothing
        hint = "close the block this line opens ({% end... %})"
    snippet = snippet_at(text, line, 1) if text else None
    return UserError(
        f"template error: {message}", SourceLocation(path, line, 1), hint=hint, snippet=snippet
    )


_BLOCK_TAG = re.compile(r"\{%-?\s*(\w+)")
_BLOCKS = {"for", "if", "macro", "call", "filter", "set", "raw", "block", "with"}


def _unclosed_block_line(text: str) -> int | None:
    """The line of the innermost block tag that is never closed (``{% for %}`` ...)."""
    stack: list[tuple[str, int]] = []
    for tag in _BLOCK_TAG.finditer(text):
        word = tag.group(1)
        if word in _BLOCKS:
            rest = text[tag.end() : text.find("%}", tag.end())]
            if word == "set" and "=" in rest:
                continue  # {% set x = ... %} needs no end
            stack.append((word, tag.start()))
        elif word.startswith("end") and stack and stack[-1][0] == word[3:]:
            stack.pop()
    if not stack:
        return None
    return text.count("\n", 0, stack[-1][1]) + 1
