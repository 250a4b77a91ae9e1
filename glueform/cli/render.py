"""Turning results into console output, Terraform-style where it helps."""

from __future__ import annotations

from typing import Any

from glueform.plan.builder import Plan, TableChange

SYMBOL = {"create": ("+", "green"), "update": ("~", "yellow"), "delete": ("-", "red")}
GLUE_SYMBOL = {**SYMBOL, "create_database": ("+", "green")}


def render_plan(console: Any, plan: Plan) -> None:
    console.data(plan.to_dict())
    _crawler_lines(console, plan)
    if plan.roots:
        console.markup("[bold]Bookmarks[/] (sources whose folder changed)")
        for root in plan.roots:
            console.markup(f"  [yellow]~ {root.node} <- {root.source}[/]  [dim]{root.meaning}[/]")
    if not plan.has_changes:
        console.markup(f"No changes. {len(plan.changes)} models are up to date.")
        return
    if plan.tables:
        console.markup("[bold]Catalog[/]")
        for change in plan.tables:
            for line in _table_lines(change):
                console.markup(line)
    if plan.glue:
        console.markup(
            "[bold]AWS Glue[/] (what a sync would change now; run and apply sync after building)"
        )
        for change in plan.glue:
            symbol, style = GLUE_SYMBOL[change.action]
            console.markup(
                f"  [{style}]{symbol} {change.key}[/]  [dim]{change.action.replace('_', ' ')}[/]"
            )
    if plan.to_build:
        console.markup("[bold]Builds[/]")
        for node in plan.changes:
            if node.action == "build":
                style = "green" if node.reasons == ("new",) else "yellow"
                console.markup(
                    f"  [{style}]{node.name}[/] ({node.materialized})  [dim]{'; '.join(node.reasons)}[/]"
                )
    counts = {a: sum(1 for t in plan.tables if t.action == a) for a in SYMBOL}
    console.markup(
        f"\nPlan: {counts['create']} to create, {counts['update']} to update, {counts['delete']} to delete; "
        f"[bold]{len(plan.to_build)}[/] to build, {len(plan.changes) - len(plan.to_build)} unchanged."
    )


def _table_lines(change: TableChange) -> list[str]:
    symbol, style = SYMBOL[change.action]
    kind = change.table_type.lower().replace("_", " ")
    note = f"  [dim]{change.note}[/]" if change.note else ""
    lines = [f"  [{style}]{symbol} {change.key}[/] ({kind}){note}"]
    lines += [f"      [green]+ {c}[/]" for c in change.added]
    lines += [f"      [red]- {c}[/]" for c in change.removed]
    lines += [f"      [yellow]~ {c}[/]" for c in change.retyped]
    lines += [f"      [yellow]~ {field} changed[/]" for field in change.changed]
    return lines


def _crawler_lines(console: Any, plan: Plan) -> None:
    """Crawlers change the catalog only when they run (glueform crawl, or the scheduler)."""
    if not plan.crawlers:
        return
    console.markup("[bold]Crawlers[/] (run with glueform crawl)")
    for c in plan.crawlers:
        style = "green" if c.would_run == "never crawled" else "dim"
        console.markup(f"  [{style}]{c.name}[/] -> {c.database}  [dim]{c.would_run}[/]")
