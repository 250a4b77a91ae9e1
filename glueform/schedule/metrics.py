"""Prometheus metrics of the scheduler: an endpoint on 127.0.0.1 (``/metrics``), through
``prometheus-client`` (its exposition format, escaping and HTTP server).

Counts come from the catalog at each scrape (so they survive restarts and include runs started
by other processes); the scheduler adds what only it knows (runs in flight, fires). So the
metrics are a custom collector read per scrape, in a registry of the server's own (never the
library's global one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

JOB_LABELS = ["job", "status"]


@dataclass(frozen=True)
class Snapshot:
    """What one scrape reports: job runs per job and status (runs, seconds, rows and bytes
    written), node runs per status, runs in flight and fires per trigger."""

    summary: Iterable[Mapping[str, Any]]
    running: int
    fired: Mapping[str, int]
    nodes: Mapping[str, int] = field(default_factory=dict)


def families(snapshot: Snapshot) -> list[Any]:
    """The metric families of a snapshot."""
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    summary = list(snapshot.summary)

    def per_job(name: str, help: str, key: str) -> Any:
        family = CounterMetricFamily(name, help, labels=JOB_LABELS)
        for r in summary:
            if r[key] is not None:
                family.add_metric([r["job"], r["status"]], float(r[key]))
        return family

    nodes = CounterMetricFamily(
        "glueform_node_runs", "Transform node runs, by status.", labels=["status"]
    )
    for status, n in sorted(snapshot.nodes.items()):
        nodes.add_metric([status], n)
    fires = CounterMetricFamily(
        "glueform_trigger_fires",
        "Fires of each trigger since this scheduler started.",
        labels=["trigger"],
    )
    for trigger, n in sorted(snapshot.fired.items()):
        fires.add_metric([trigger], n)
    return [
        per_job("glueform_job_runs", "Finished and running job runs, by job and status.", "runs"),
        per_job("glueform_job_run_seconds", "Seconds spent by finished job runs.", "seconds"),
        per_job("glueform_rows_written", "Rows written by job runs.", "rows_written"),
        per_job(
            "glueform_bytes_written", "Bytes of table data written by job runs.", "bytes_written"
        ),
        nodes,
        GaugeMetricFamily(
            "glueform_scheduler_running_jobs",
            "Job runs this scheduler has in flight.",
            value=snapshot.running,
        ),
        fires,
    ]


class _Collector:
    """Reads a fresh snapshot at each scrape."""

    def __init__(self, snapshot: Callable[[], Snapshot]) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Any]:
        yield from families(self.snapshot())


def _registry(snapshot: Callable[[], Snapshot]) -> Any:
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(snapshot))
    return registry


def render(snapshot: Snapshot) -> str:
    """The exposition text of a snapshot (what a scrape returns)."""
    from prometheus_client import generate_latest

    return generate_latest(_registry(lambda: snapshot)).decode()


class MetricsServer:
    """``GET /metrics`` on 127.0.0.1:``port`` (0: any free port, see ``.port``), in a thread."""

    def __init__(self, port: int, snapshot: Callable[[], Snapshot]) -> None:
        self._registry = _registry(snapshot)
        self._port = port
        self._server: Any = None
        self.port = port

    def start(self) -> MetricsServer:
        """Serve (raises OSError when the port is taken)."""
        from prometheus_client import start_http_server

        self._server, _ = start_http_server(self._port, "127.0.0.1", self._registry)
        self.port = self._server.server_address[1]
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
