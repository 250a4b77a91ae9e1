"""``glueform crawl [NAME...] [--dry-run]``: run crawlers and show what they found and changed."""

from __future__ import annotations

import click

from glueform.cli.base import Context, cli, common


@cli.command()
@common(json_flag=True)
@click.argument("names", nargs=-1)
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
def crawl(ctx: Context, names: tuple[str, ...], dry_run: bool) -> int:
    """Crawl the named crawlers' targets (all crawlers when none is named) into the catalog."""
    results = ctx.workspace().crawl(names, dry_run=dry_run)
    console = ctx.console()
    console.crawl_results(results)
    return 0 if all(r.ok for r in results) else 1
