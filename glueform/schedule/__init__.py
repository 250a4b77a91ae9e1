"""Jobs, triggers, workflows and the scheduler: Glue's orchestration, run from the repo.

``cron`` reads schedules, ``triggers`` decides what fires, ``jobs`` runs one job (steps, retries,
timeout), ``workflows`` groups runs, ``daemon`` is the long-running loop, ``metrics`` and
``lineage_events`` report what happened. Time comes from a :class:`~glueform.schedule.clock.Clock`.
"""
