"""The only code that prints: a rich console for people and a JSON console for machines.

Commands hand results to a console; the library itself never prints. Everything a console
prints is masked of its ``secrets()`` (the CLI gives it the workspace's, known once the
project compiled: see ``glueform.secrets``), the last boundary before text leaves the process.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from glueform.build.runner import NodeResult, RunResult
    from glueform.crawl.crawler import CrawlResult
    from glueform.errors import GlueformError
    from glueform.secrets import Secrets

SUMMARY_ROWS = 40  # a run's table lists every node up to this many (--json lists them all)
STATUS_STYLE = {"success": "green", "error": "bold red", "skipped": "yellow"}
CRAWL_STYLE = {
    "created": "green",
    "updated": "yellow",
    "deleted": "red",
    "deprecated": "red",
    "conflict": "bold red",
    "logged": "cyan",
}


def count(n: int, noun: str, nouns: str | None = None) -> str:
    """``1 model``, ``2 models``, ``1,204 files``: one way to say how many, in every command."""
    return f"{n:,} {noun if n == 1 else (nouns or noun + 's')}"


def number(value: Any) -> str:
    """Integers with thousands separators, like every count glueform prints; others as given."""
    if isinstance(value, bool) or not isinstance(value, int):
        return "" if value is None else str(value)
    return f"{value:,}"


def duration(seconds: float | None) -> str:
    """Seconds in the unit they were most likely written in: ``2h``, ``90m``, ``45s``, ``1.5s``."""
    if seconds is None:
        return ""
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def _cell(value: Any) -> Any:
    """A table cell: markup given as rich Text stays, anything else is shown literally."""
    from rich.text import Text

    return value if isinstance(value, Text) else Text(number(value))


class RichConsole:
    """Human output: a progress bar while running, tables after."""

    def __init__(
        self, stream: TextIO | None = None, secrets: Callable[[], Secrets] | None = None
    ) -> None:
        from rich.console import Console

        self.secrets = secrets or _no_secrets
        self.out = Console(file=stream or sys.stdout, highlight=False, emoji=False)
        self.err = Console(file=sys.stderr, highlight=False, emoji=False)
        self._progress: Any = None
        self._task: Any = None

    def redact(self, text: str) -> str:
        return self.secrets().redact(text)

    # -- run progress (the runner's Reporter) ----------------------------------------------------

    def run_started(self, total: int) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]running"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=self.err,
            transient=True,
        )
        self._task = self._progress.add_task("", total=total)
        self._progress.start()

    def node_finished(self, result: NodeResult) -> None:
        if self._progress is not None:
            self._progress.update(self._task, advance=1, description=result.name)

    # -- results ---------------------------------------------------------------------------------

    def run_result(self, result: RunResult) -> None:
        from rich.markup import escape
        from rich.text import Text

        if self._progress is not None:
            self._progress.stop()
        shown = result.results
        if len(shown) > SUMMARY_ROWS:  # a large run: what did not succeed, then the slowest
            unusual = [r for r in shown if r.status != "success"]
            slowest = sorted((r for r in shown if r.status == "success"), key=lambda r: -r.seconds)[
                : max(SUMMARY_ROWS - len(unusual), 10)
            ]
            shown = unusual + slowest
        title = f"run {result.run_id}"
        if len(shown) < len(result.results):
            title += f" ({len(shown):,} of {count(len(result.results), 'node')}: any not built, the slowest)"
        self._grid(
            title,
            ["node", "kind", "status", "rows", "seconds"],
            [
                [
                    self.redact(r.name),
                    r.materialized,
                    Text(r.status, style=STATUS_STYLE.get(r.status, "")),
                    r.rows,
                    f"{r.seconds:.2f}",
                ]
                for r in shown
            ],  # fmt: skip
            right={"rows", "seconds"},
        )
        for r in result.results:  # incremental models: what the run read and added
            if r.status == "success" and r.incremental is not None:
                how = "increment" if r.incremental else "full build"
                files = "" if r.files_read is None else f", {r.files_read:,} files read"
                note = f" ({self.redact(r.message)})" if r.message else ""
                self.out.print(f"  {r.name}: {how}, {r.new_rows or 0:,} new rows{files}{note}")
        counts = {
            s: sum(1 for r in result.results if r.status == s)
            for s in ("success", "error", "skipped")
        }
        self.out.print(
            f"[green]{counts['success']} succeeded[/], [red]{counts['error']} failed[/], "
            f"[yellow]{counts['skipped']} skipped[/] in {result.seconds:.2f}s"
        )
        for r in result.results:
            if r.status == "error":
                self.err.print(
                    f"[bold red]error[/] in [bold]{r.name}[/] ({r.path}):\n  "
                    + escape(self.redact(r.message or "")),
                    markup=True,
                    soft_wrap=True,
                )

    def crawl_results(self, results: list[CrawlResult]) -> None:
        from rich.markup import escape
        from rich.text import Text

        for r in results:
            mode = " (dry run: nothing written)" if r.dry_run else ""
            kind = "incremental " if r.incremental else ""
            self._grid(
                f"{kind}crawl {r.crawler} -> {r.database}{mode}",
                ["table", "action", "format", "columns", "partitions +/-", "location"],
                [
                    [
                        t.name,
                        Text(t.action, style=CRAWL_STYLE.get(t.action, "default")),
                        t.format,
                        t.columns,
                        f"+{t.partitions_added:,} -{t.partitions_removed:,}",
                        self.redact(t.location),
                    ]
                    for t in r.tables
                ],  # fmt: skip
                right={"columns"},
            )
            for t in r.tables:
                for change in t.changes if t.action != "created" else ():
                    self.out.print(f"  {t.name}: {escape(self.redact(change))}", soft_wrap=True)
                if t.note:
                    self.out.print(
                        f"  {t.name}: [dim]{escape(self.redact(t.note))}[/]", soft_wrap=True
                    )
            for p in r.failed_targets:
                self.err.print(
                    f"[bold red]target failed[/]: {escape(self.redact(p.path))}: {escape(self.redact(p.reason))}",
                    soft_wrap=True,
                )
            for p in r.skipped:
                self.err.print(
                    f"[yellow]skipped[/] {escape(self.redact(p.path))}: {escape(self.redact(p.reason))}",
                    soft_wrap=True,
                )
            for w in r.warnings:
                self.err.print(f"[yellow]warning[/]: {escape(self.redact(w))}", soft_wrap=True)
            rate = r.files_listed / r.seconds if r.seconds else 0.0
            self.out.print(
                f"{r.count('created')} created, {r.count('updated')} updated, "
                f"{r.count('deleted') + r.count('deprecated')} deleted or deprecated; "
                f"partitions +{r.partitions_added} -{r.partitions_removed}; "
                f"{r.files_listed:,} files listed, {r.files_read:,} read, {len(r.skipped)} skipped "
                f"in {r.seconds:.2f}s ({rate:,.0f} files/s)"
            )

    def table(
        self,
        title: str,
        columns: list[str],
        rows: list[list[Any]],
        empty: str | None = None,
        right: set[str] | frozenset[str] = frozenset(),
    ) -> None:
        """A titled table; with no rows, the title and ``empty`` (what to do to get some)."""
        if not rows:
            self.out.print(self.redact(title), markup=False, soft_wrap=True)
            if empty:
                self.err.print(f"  [cyan]hint[/]: {self.redact(empty)}", soft_wrap=True)
            return
        cells = [[None if v is None else self.redact(number(v)) for v in row] for row in rows]
        self._grid(title, columns, cells, right)

    def _grid(
        self,
        title: str,
        columns: list[str],
        rows: list[list[Any]],
        right: set[str] | frozenset[str],
    ) -> None:
        """On a terminal a rich table that folds long cells (never cuts them); elsewhere (a pipe,
        a file) plain aligned columns, every value whole, so ids and paths can be copied."""
        from rich.cells import cell_len
        from rich.table import Table

        cells = [[_cell(v) for v in row] for row in rows]
        if self.out.is_terminal:
            table = Table(title=title, title_justify="left")
            for col in columns:
                table.add_column(col, justify="right" if col in right else "left", overflow="fold")
            for row in cells:
                table.add_row(*row)
            self.out.print(table)
            return
        texts = [columns, *([c.plain for c in row] for row in cells)]
        widths = [max(cell_len(t[i]) for t in texts) for i in range(len(columns))]
        lines = [title]
        for t in texts:
            gaps = [" " * (w - cell_len(v)) for v, w in zip(t, widths, strict=True)]
            padded = [
                gap + v if col in right else v + gap
                for v, gap, col in zip(t, gaps, columns, strict=True)
            ]
            lines.append("  ".join(padded).rstrip())
        self.out.file.write("\n".join(lines) + "\n")

    def lines(self, lines: list[str]) -> None:
        for line in lines:
            self.out.print(self.redact(line), markup=False, soft_wrap=True)

    def markup(self, text: str) -> None:
        self.out.print(self.redact(text), soft_wrap=True)

    def data(self, payload: Any) -> None:
        """Structured results print as JSON only in the JSON console; here they are ignored."""

    def event(self, kind: str, fields: dict[str, Any]) -> None:
        """One line per scheduler event, as it happens."""
        import time

        from rich.markup import escape

        detail = self.redact(" ".join(f"{k}={v}" for k, v in fields.items() if v is not None))
        style = (
            "red"
            if kind in ("job_error", "skipped") or fields.get("status") in ("FAILED", "TIMEOUT")
            else "cyan"
        )
        self.err.print(
            f"{time.strftime('%H:%M:%S')} [{style}]{kind}[/] {escape(detail)}", soft_wrap=True
        )

    def error(self, exc: GlueformError) -> None:
        from rich.markup import escape

        head = f"{exc.location}: " if exc.location else ""
        say = self.redact
        self.err.print(f"[bold red]error[/]: {escape(say(head + exc.message))}", soft_wrap=True)
        if exc.snippet:
            self.err.print(escape(say(exc.snippet)), soft_wrap=True)
        if exc.hint:
            self.err.print(f"  [cyan]hint[/]: {escape(say(exc.hint))}", soft_wrap=True)


class JsonConsole:
    """Machine output: exactly one JSON document on stdout per command."""

    def __init__(
        self, stream: TextIO | None = None, secrets: Callable[[], Secrets] | None = None
    ) -> None:
        self.stream = stream or sys.stdout
        self.secrets = secrets or _no_secrets

    def run_started(self, total: int) -> None:
        pass

    def node_finished(self, result: NodeResult) -> None:
        pass

    def run_result(self, result: RunResult) -> None:
        self.data(result.to_dict())

    def crawl_results(self, results: list[CrawlResult]) -> None:
        self.data([r.to_dict() for r in results])

    def table(
        self,
        title: str,
        columns: list[str],
        rows: list[list[Any]],
        empty: str | None = None,
        right: set[str] | frozenset[str] = frozenset(),
    ) -> None:
        pass

    def lines(self, lines: list[str]) -> None:
        pass

    def markup(self, text: str) -> None:
        pass

    def data(self, payload: Any) -> None:
        self.stream.write(self.secrets().redact_json(payload, indent=2) + "\n")

    def event(self, kind: str, fields: dict[str, Any]) -> None:
        """Scheduler events as JSON lines (one object per line)."""
        self.stream.write(self.secrets().redact_json({"event": kind, **fields}) + "\n")
        self.stream.flush()

    def error(self, exc: GlueformError) -> None:
        self.data(exc.to_dict())


def _no_secrets() -> Secrets:
    from glueform.secrets import Secrets

    return Secrets()
