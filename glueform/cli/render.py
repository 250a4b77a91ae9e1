"""Turning results into console output, Terraform-style where it helps."""

from __future__ import annotations

from typing import Any

from glueform.plan import Plan

SYMBOL = {"new": ("+", "green"), "change": ("~", "yellow"), "orphan": ("-", "red")}


def render_plan(console: Any, plan: Plan) -> None:
    console.data(plan.to_dict())
    lines = []
    for change in plan.changes:
        if change.action != "build":
            continue
        symbol, style = SYMBOL["new" if change.reasons == ("new",) else "change"]
        reasons = "; ".join(change.reasons)
        lines.append(
            f"  [{style}]{symbol} {change.name}[/] ({change.materialized}, {change.database})  [dim]{reasons}[/]"
        )
    for name in plan.orphans:
        symbol, style = SYMBOL["orphan"]
        lines.append(
            f"  [{style}]{symbol} {name}[/]  [dim]no longer in the project (its data is kept)[/]"
        )
    build, unchanged = len(plan.to_build), len(plan.changes) - len(plan.to_build)
    if not plan.has_changes:
        console.markup(f"No changes. {unchanged} models are up to date.")
        return
    for line in lines:
        console.markup(line)
    console.markup(
        f"\nPlan: [bold]{build}[/] to build, {unchanged} unchanged, {len(plan.orphans)} no longer defined."
    )
