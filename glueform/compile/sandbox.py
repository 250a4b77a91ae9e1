"""The Jinja sandbox models render in, with a bound on what one render may build.

A model's Jinja is untrusted input as much as its YAML: ``{{ "x" * 2000000000 }}`` would take
gigabytes, a nested loop hours. Jinja's sandbox already refuses unsafe attributes and a
``range()`` over 100,000; this one also bounds, per render, the size of every value built (a
string, a list, an integer's digits), the characters output and the steps taken (loop
iterations, calls, attribute reads) and the time. Sizes are checked *before* an operation
allocates where the size can be told from its arguments (``*``, ``+``, ``~``, ``%``, widths,
``replace``, ``join``, ``indent``), and on every result. Crossing a bound raises
:class:`RenderLimitError`, which the renderer reports at the template's line.

Loops and ``~`` are bounded by rewriting the template's tree before it is compiled: each loop's
iterable is wrapped (every item costs a step and the loop body's literal text), each ``~`` goes
through a checked join.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import wraps
from typing import Any

from jinja2 import nodes, pass_context
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

# width-like fields of format strings: "{:>2000000000}", "%2000000000s"
_BRACE_WIDTH = re.compile(r"\{[^{}]*:[^{}]*?(\d+)")
_PERCENT_WIDTH = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\d+)")
_WIDTH_METHODS = frozenset({"ljust", "rjust", "center", "zfill"})


class RenderLimitError(Exception):
    """A template went past one of its :class:`RenderLimits`."""


@dataclass(frozen=True)
class RenderLimits:
    """What one model's render may build. The defaults are far above what real models need
    (a macro that writes a thousand-column select is a few thousand steps and 100 KB)."""

    max_chars: int = 10_000_000  # the rendered SQL, and any value built on the way
    max_steps: int = 1_000_000  # loop iterations, calls and attribute reads
    max_seconds: float = 30.0
    max_int_bits: int = 100_000  # integers of about 30,000 digits
    max_nesting: int = 32  # brackets nested in the rendered SQL (the SQL parser's recursion)


class Budget:
    """One render's use of its limits (a fresh one per render)."""

    def __init__(self, limits: RenderLimits) -> None:
        self.limits = limits
        self.steps = 0
        self.chars = 0
        self.deadline = time.monotonic() + limits.max_seconds

    def step(self, count: int = 1) -> None:
        self.steps += count
        if self.steps > self.limits.max_steps:
            raise RenderLimitError(
                f"the template takes more than {self.limits.max_steps:,} steps "
                "(loop iterations, calls and attribute reads)"
            )
        if self.steps % 1024 < count and time.monotonic() > self.deadline:
            raise RenderLimitError(
                f"the template takes longer than {self.limits.max_seconds:g}s to render"
            )

    def size(self, chars: int, what: str = "a value") -> None:
        if chars > self.limits.max_chars:
            raise RenderLimitError(
                f"the template builds {what} of {chars:,} characters "
                f"(at most {self.limits.max_chars:,})"
            )

    def output(self, chars: int) -> None:
        self.chars += chars
        if self.chars > self.limits.max_chars:
            raise RenderLimitError(
                f"the template renders more than {self.limits.max_chars:,} characters"
            )

    def bits(self, bits: int) -> None:
        if bits > self.limits.max_int_bits:
            raise RenderLimitError(
                f"the template builds an integer of about {bits * 0.30103:,.0f} digits"
            )

    def result(self, value: Any) -> Any:
        """Check a value once it exists (the operations whose size cannot be told before)."""
        if isinstance(value, str | bytes | list | tuple | dict | set | frozenset):
            self.size(len(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            self.bits(value.bit_length())
        return value


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, bounded by a :class:`Budget` that :meth:`start` renews before
    each render (an environment belongs to one renderer, used by one thread at a time)."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, limits: RenderLimits, **options: Any) -> None:
        super().__init__(finalize=_output, **options)
        self.limits = limits
        self.budget = Budget(limits)
        self.filters = {name: _bounded_filter(self, name, f) for name, f in self.filters.items()}
        self.globals.pop("lipsum", None)  # paragraphs of Latin, by the million if asked

    def start(self) -> Budget:
        self.budget = Budget(self.limits)
        return self.budget

    def parse_bounded(self, source: str, name: str, filename: str) -> nodes.Template:
        """The template's tree with its loops and ``~`` bounded (compile this, not the text)."""
        return _Bounder().visit(self.parse(source, name, filename))  # type: ignore[no-any-return]

    # -- hooks of the sandbox ---------------------------------------------------------------

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        budget = self.budget
        budget.step()
        _predict_binop(budget, operator, left, right)
        return budget.result(super().call_binop(context, operator, left, right))

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        budget = __self.budget
        budget.step()
        _predict_call(budget, __obj, args, kwargs)
        return budget.result(super().call(__context, __obj, *args, **kwargs))

    def getattr(self, obj: Any, attribute: str) -> Any:
        self.budget.step()
        if attribute in ("format", "format_map") and isinstance(obj, str):
            _format_widths(self.budget, obj, _BRACE_WIDTH)
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        self.budget.step()
        return super().getitem(obj, argument)

    def concat(self, parts: Iterable[Any]) -> str:  # type: ignore[override]
        """How Jinja joins output (a macro's, a captured block's, the render's)."""
        text = "".join(parts)
        self.budget.size(len(text), "output")
        return text

    def bounded_loop(self, iterable: Any, literal_chars: int) -> Iterator[Any]:
        """A loop's iterable: each item costs a step and the body's literal text."""
        budget = self.budget
        for item in iterable:
            budget.step()
            budget.output(literal_chars)
            yield item

    def bounded_concat(self, parts: list[Any]) -> str:
        """``a ~ b``: the parts' sizes are known before they are joined."""
        texts = [p if isinstance(p, str) else str(p) for p in parts]
        self.budget.size(sum(len(t) for t in texts))
        return "".join(texts)


@pass_context
def _output(context: Context, value: Any) -> Any:
    """Every ``{{ }}`` output costs its size (pass_context keeps Jinja from folding it away)."""
    env = context.environment
    assert isinstance(env, BoundedSandbox)
    env.budget.output(len(value) if isinstance(value, str) else len(str(value)))
    return value


class _Bounder(NodeTransformer):
    """Rewrites a template's tree: loops and ``~`` through :class:`BoundedSandbox`."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        literal = sum(len(d.data) for b in node.body for d in b.find_all(nodes.TemplateData))
        node.iter = nodes.Call(
            nodes.EnvironmentAttribute("bounded_loop"),
            [node.iter, nodes.Const(literal)],
            [],
            None,
            None,
            lineno=node.lineno,
        )
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return nodes.Call(
            nodes.EnvironmentAttribute("bounded_concat"),
            [nodes.List(node.nodes, lineno=node.lineno)],
            [],
            None,
            None,
            lineno=node.lineno,
        )


def _predict_binop(budget: Budget, operator: str, left: Any, right: Any) -> None:
    sized = (str, bytes, list, tuple)
    if operator == "*":
        if isinstance(left, sized) and isinstance(right, int):
            budget.size(len(left) * max(right, 0))
        elif isinstance(right, sized) and isinstance(left, int):
            budget.size(len(right) * max(left, 0))
        elif isinstance(left, int) and isinstance(right, int):
            budget.bits(left.bit_length() + right.bit_length())
    elif operator == "+" and isinstance(left, sized) and isinstance(right, sized):
        budget.size(len(left) + len(right))
    elif operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0:
        budget.bits(left.bit_length() * right if abs(left) > 1 else 1)
    elif operator == "%" and isinstance(left, str):
        _format_widths(budget, left, _PERCENT_WIDTH)


def _predict_call(budget: Budget, obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Python's string methods that can grow a value far beyond their arguments."""
    owner = getattr(obj, "__self__", None)
    if not isinstance(owner, str | bytes):
        return
    name = getattr(obj, "__name__", "")
    if name in _WIDTH_METHODS and args and isinstance(args[0], int):
        budget.size(args[0])
    elif name == "expandtabs":
        tab = args[0] if args and isinstance(args[0], int) else kwargs.get("tabsize", 8)
        budget.size(len(owner) + owner.count(type(owner)("\t")) * max(int(tab), 0))
    elif name == "replace" and len(args) >= 2:
        _predict_replace(budget, owner, args[0], args[1])
    elif name == "join" and args:
        _predict_join(budget, owner, args[0])


def _predict_replace(budget: Budget, text: Any, old: Any, new: Any) -> None:
    if isinstance(old, str | bytes) and isinstance(new, str | bytes) and len(new) > len(old):
        hits = text.count(old) if old else len(text) + 1
        budget.size(len(text) + hits * (len(new) - len(old)))


def _predict_join(budget: Budget, separator: Any, items: Any) -> None:
    if isinstance(items, list | tuple):
        total = sum(len(i) if isinstance(i, str | bytes) else 0 for i in items)
        budget.size(total + len(separator) * max(len(items) - 1, 0))


def _format_widths(budget: Budget, template: str, widths: re.Pattern[str]) -> None:
    for match in widths.finditer(template):
        budget.size(int(match.group(1)), "a formatted field")


def _bounded_filter(env: BoundedSandbox, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """A built-in filter that costs a step, is checked where it can grow its input beyond
    bounds (widths, counts, replace, join) and whose result is checked."""
    skip = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0

    @wraps(func)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        budget = env.budget
        budget.step()
        _predict_filter(budget, name, args[skip:], kwargs)
        return budget.result(func(*args, **kwargs))

    return bounded


def _predict_filter(
    budget: Budget, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    value, rest = (args[0] if args else None), args[1:]
    count = rest[0] if rest and isinstance(rest[0], int) else None
    if name == "center" and count is not None:
        budget.size(count)
    elif name == "indent" and isinstance(value, str):
        width = rest[0] if rest else kwargs.get("width", 4)
        width = len(width) if isinstance(width, str) else int(width)
        budget.size(len(value) + (value.count("\n") + 1) * max(width, 0))
    elif name == "replace" and isinstance(value, str) and len(rest) >= 2:
        _predict_replace(budget, value, rest[0], rest[1])
    elif name == "join" and isinstance(value, list | tuple):
        separator = rest[0] if rest else kwargs.get("d", "")
        _predict_join(budget, str(separator), [str(v) for v in value])
    elif name == "format" and isinstance(value, str):
        _format_widths(budget, value, _PERCENT_WIDTH)
    elif name in ("slice", "batch") and count is not None:
        budget.step(max(count, 0))  # as many lists as it asks for
