"""Prometheus metrics of the scheduler: a text-format endpoint on 127.0.0.1 (``/metrics``).

Counts come from the catalog at each scrape (so they survive restarts and include runs started
by other processes); the scheduler adds what only it knows (runs in flight, fires).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def render(
    summary: Iterable[Mapping[str, Any]],
    running: int,
    fired: Mapping[str, int],
    nodes: Mapping[str, int] | None = None,
) -> str:
    """The exposition text: job runs by status, their seconds, rows and bytes written; node runs."""
    summary = list(summary)
    lines = [
        "# HELP glueform_job_runs_total Finished and running job runs, by job and status.",
        "# TYPE glueform_job_runs_total counter",
        *(f"glueform_job_runs_total{_labels(r)} {r['runs']}" for r in summary),
        "# HELP glueform_job_run_seconds_total Seconds spent by finished job runs.",
        "# TYPE glueform_job_run_seconds_total counter",
        *(
            f"glueform_job_run_seconds_total{_labels(r)} {float(r['seconds']):.3f}"
            for r in summary
            if r["seconds"] is not None
        ),
        "# HELP glueform_rows_written_total Rows written by job runs.",
        "# TYPE glueform_rows_written_total counter",
        *(
            f"glueform_rows_written_total{_labels(r)} {int(r['rows_written'])}"
            for r in summary
            if r["rows_written"] is not None
        ),
        "# HELP glueform_bytes_written_total Bytes of table data written by job runs.",
        "# TYPE glueform_bytes_written_total counter",
        *(
            f"glueform_bytes_written_total{_labels(r)} {int(r['bytes_written'])}"
            for r in summary
            if r["bytes_written"] is not None
        ),
        "# HELP glueform_node_runs_total Transform node runs, by status.",
        "# TYPE glueform_node_runs_total counter",
        *(
            f'glueform_node_runs_total{{status="{_escape(k)}"}} {n}'
            for k, n in sorted((nodes or {}).items())
        ),
        "# HELP glueform_scheduler_running_jobs Job runs this scheduler has in flight.",
        "# TYPE glueform_scheduler_running_jobs gauge",
        f"glueform_scheduler_running_jobs {running}",
        "# HELP glueform_trigger_fires_total Fires of each trigger since this scheduler started.",
        "# TYPE glueform_trigger_fires_total counter",
        *(
            f'glueform_trigger_fires_total{{trigger="{_escape(t)}"}} {n}'
            for t, n in sorted(fired.items())
        ),
    ]
    return "\n".join(lines) + "\n"


def _labels(row: Mapping[str, Any]) -> str:
    return f'{{job="{_escape(row["job"])}",status="{_escape(row["status"])}"}}'


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class MetricsServer:
    """``GET /metrics`` on 127.0.0.1:``port`` (0: any free port, see ``.port``), in a thread."""

    def __init__(self, port: int, text: Callable[[], str]) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                if self.path.split("?")[0] not in ("/metrics", "/"):
                    self.send_error(404)
                    return
                body = text().encode()
                self.send_response(200)
                self.send_header("Content-Type", CONTENT_TYPE)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the library never prints

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> MetricsServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
