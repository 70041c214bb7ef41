"""Truthful job status for the seed's Python training backend (training_server.py).

- JobReporter.persist_job(): reports with attempt and seq, journaled when the route is down.
- Tombstones: finished jobs keep answering for a retention window.
- training_router(): status with progress evidence, list and cancel routes.
- startup_reconcile_lifespan(): start-up reconciliation after the server accepts requests.
"""
from .journal import Journal
from .report import Report, SeqClock
from .reporter import JobReporter
from .routes import all_answers, lookup, status_answer, training_router
from .startup import call_function, reconcile_when_ready, run_command, startup_reconcile_lifespan
from .tombstones import Tombstones
from .transports import DeliveryError, HttpTransport, PsycopgTransport

__all__ = ["DeliveryError", "HttpTransport", "JobReporter", "Journal", "PsycopgTransport", "Report", "SeqClock",
           "Tombstones", "all_answers", "call_function", "lookup", "reconcile_when_ready", "run_command",
           "startup_reconcile_lifespan", "status_answer", "training_router"]
