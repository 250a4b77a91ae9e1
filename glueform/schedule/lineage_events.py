"""OpenLineage RunEvents for job runs: appended as JSON lines to a file, or POSTed to a URL.

Optional and best-effort: a lineage backend that is down never fails a job; the failure goes to
the run's log instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.client import HTTPException
from pathlib import Path
from typing import Any

from glueform import __version__
from glueform.schedule.logs import iso_ms
from glueform.secrets import Secrets, mask_url

PRODUCER = f"https://glueform.dev/glueform/{__version__}"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"


@dataclass(frozen=True)
class Lineage:
    """Where events go (``http(s)://…`` is POSTed to, anything else is a file) and the namespace
    of jobs and datasets (the project's name)."""

    destination: str
    namespace: str
    secrets: Secrets = field(default_factory=Secrets)  # masked in every event and message

    def emit(
        self,
        event_type: str,
        run_id: str,
        job: str,
        inputs: Sequence[str],
        outputs: Sequence[str],
        at: float,
        error: str | None = None,
    ) -> str | None:
        """Send one event; returns an error message instead of raising."""
        event = self._event(event_type, run_id, job, inputs, outputs, at, error)
        body = self.secrets.redact_json(event)
        try:
            if self.destination.startswith(("http://", "https://")):
                import urllib.request

                request = urllib.request.Request(
                    self.destination,
                    data=body.encode(),
                    headers={"Content-Type": "application/json"},
                    method="POST",
                )
                with urllib.request.urlopen(request, timeout=5) as response:
                    response.read()
            else:
                path = Path(self.destination)
                path.parent.mkdir(parents=True, exist_ok=True)
                with path.open("a", encoding="utf-8") as out:
                    out.write(body + "\n")
        except (OSError, ValueError, HTTPException) as exc:  # also a malformed URL (host:abc)
            where = mask_url(self.destination)
            return f"lineage event not sent to {where}: {self.secrets.redact(str(exc))}"
        return None

    def _event(
        self,
        event_type: str,
        run_id: str,
        job: str,
        inputs: Sequence[str],
        outputs: Sequence[str],
        at: float,
        error: str | None,
    ) -> dict[str, Any]:
        run: dict[str, Any] = {"runId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"glueform:{run_id}"))}
        run["facets"] = {
            "glueform_run": {"_producer": PRODUCER, "_schemaURL": SCHEMA_URL, "runId": run_id}
        }
        if error:
            run["facets"]["errorMessage"] = {
                "_producer": PRODUCER,
                "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json",
                "message": error,
                "programmingLanguage": "SQL",
            }
        return {
            "eventType": event_type,
            "eventTime": iso_ms(at),
            "run": run,
            "job": {"namespace": self.namespace, "name": job},
            "inputs": [{"namespace": self.namespace, "name": n} for n in inputs],
            "outputs": [{"namespace": self.namespace, "name": n} for n in outputs],
            "producer": PRODUCER,
            "schemaURL": SCHEMA_URL,
        }
