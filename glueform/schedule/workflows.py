"""Workflow runs: the job runs started by one firing of a workflow's start trigger, tracked as one.

A workflow run starts when a schedule or on-demand trigger of the workflow fires. Conditional
triggers of the workflow then look only at outcomes within that run and fire at most once per
run. The run is COMPLETED when none of its jobs runs and none of its triggers can fire any more
(as Glue, failed jobs show in its statistics, not in its state); STOPPED if the scheduler stops
it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from glueform.catalog.jobruns import JobRuns
from glueform.project.model import TriggerSpec
from glueform.schedule.triggers import conditions_met, watched_jobs


@dataclass
class ActiveWorkflows:
    """The workflow runs this scheduler started and has not finished (id -> workflow name)."""

    runs: dict[str, str] = field(default_factory=dict)

    def start(self, store_runs: JobRuns, workflow: str, trigger: str, now: float) -> str:
        run_id = store_runs.start_workflow(workflow, trigger, now)
        self.runs[run_id] = workflow
        return run_id

    def ready_triggers(
        self, store_runs: JobRuns, triggers: Mapping[str, TriggerSpec]
    ) -> list[tuple[TriggerSpec, str]]:
        """Conditional triggers whose conditions hold within one of the active workflow runs."""
        out = []
        for run_id, workflow in self.runs.items():
            for trigger in triggers.values():
                if (
                    trigger.workflow != workflow
                    or trigger.type != "conditional"
                    or not trigger.enabled
                ):
                    continue
                if store_runs.last_fire(fired_key(trigger.name, run_id)) is not None:
                    continue
                outcomes = store_runs.outcomes_since(watched_jobs(trigger), 0.0, run_id)
                if conditions_met(trigger, outcomes):
                    out.append((trigger, run_id))
        return out

    def finish_idle(self, store_runs: JobRuns, busy: set[str], now: float) -> list[str]:
        """Complete the runs with no job running (in the catalog or about to start here)."""
        done = []
        running = {r["workflow_run_id"] for r in store_runs.running()}
        for run_id in list(self.runs):
            if run_id not in running and run_id not in busy:
                store_runs.finish_workflow(run_id, "COMPLETED", now)
                del self.runs[run_id]
                done.append(run_id)
        return done

    def stop_all(self, store_runs: JobRuns, now: float) -> None:
        for run_id in list(self.runs):
            store_runs.finish_workflow(run_id, "STOPPED", now)
            del self.runs[run_id]


def fired_key(trigger: str, workflow_run_id: str) -> str:
    """The trigger-state key that records a conditional trigger fired within a workflow run."""
    return f"{trigger}@{workflow_run_id}"
