"""OpenLineage RunEvents for job runs, through the ``openlineage-python`` client (the
``lineage`` extra): its event model, and its file transport (JSON lines appended to a file) or
HTTP transport (POSTed to a URL).

Optional and best-effort: a lineage backend that is down never fails a job; the failure goes to
the run's log instead. Every text an event carries is masked of the run's secrets before the
event is built. The transports are used without ``OpenLineageClient``, which would read
``openlineage.yml`` and ``OPENLINEAGE_*`` settings from wherever the job runs and could add
facets (environment variables) after the masking.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from glueform import __version__
from glueform.errors import UserError
from glueform.schedule.logs import iso_ms
from glueform.secrets import Secrets, mask_url

PRODUCER = f"https://glueform.dev/glueform/{__version__}"
# a down backend costs a job little: one quick retry, then the failure goes to the run's log
_RETRY = {"total": 1, "connect": 1, "read": 1, "backoff_factor": 0.1}


def require_client() -> None:
    """A lineage destination needs the client: say how to install it (before any job runs)."""
    from importlib.util import find_spec

    if find_spec("openlineage") is None or find_spec("openlineage.client") is None:
        raise UserError(
            "OpenLineage events need the openlineage-python package",
            hint="pip install 'glueform[lineage]'",
        )


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
        try:
            event = self._event(event_type, run_id, job, inputs, outputs, at, error)
            self._transport().emit(event)
        except Exception as exc:  # best-effort by design: whatever the transport raises
            where = mask_url(self.destination)
            return f"lineage event not sent to {where}: {self.secrets.redact(str(exc))}"
        return None

    def _transport(self) -> Any:
        if self.destination.startswith(("http://", "https://")):
            from openlineage.client.transport.http import HttpConfig, HttpTransport

            config = HttpConfig(url=self.destination, endpoint="", timeout=5.0, retry=_RETRY)
            return HttpTransport(config)
        from openlineage.client.transport.file import FileConfig, FileTransport

        Path(self.destination).parent.mkdir(parents=True, exist_ok=True)
        return FileTransport(FileConfig(log_file_path=self.destination, append=True))

    def _event(
        self,
        event_type: str,
        run_id: str,
        job: str,
        inputs: Sequence[str],
        outputs: Sequence[str],
        at: float,
        error: str | None,
    ) -> Any:
        from openlineage.client.event_v2 import (
            InputDataset,
            Job,
            OutputDataset,
            Run,
            RunEvent,
            RunState,
        )
        from openlineage.client.facet_v2 import error_message_run

        mask, namespace = self.secrets.redact, self.secrets.redact(self.namespace)
        facets: dict[str, Any] = {
            "glueform_run": _run_facet()(runId=mask(run_id), producer=PRODUCER)
        }
        if error:
            facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
                message=mask(error), programmingLanguage="SQL", producer=PRODUCER
            )
        return RunEvent(
            eventType=RunState(event_type),
            eventTime=iso_ms(at),
            run=Run(runId=str(uuid.uuid5(uuid.NAMESPACE_URL, f"glueform:{run_id}")), facets=facets),
            job=Job(namespace=namespace, name=mask(job)),
            producer=PRODUCER,
            inputs=[InputDataset(namespace=namespace, name=mask(n)) for n in inputs],
            outputs=[OutputDataset(namespace=namespace, name=mask(n)) for n in outputs],
        )


@cache
def _run_facet() -> type:
    """The ``glueform_run`` run facet (glueform's own run id), made when first needed so that
    importing this module does not import the client."""
    import attr
    from openlineage.client.facet_v2 import RunFacet

    @attr.define
    class GlueformRunFacet(RunFacet):
        runId: str  # noqa: N815 (the facet's field name)

    return GlueformRunFacet
