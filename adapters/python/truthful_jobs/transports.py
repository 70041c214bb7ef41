"""How a report reaches the database: the seed's persist route, or Postgres directly.

Both answer with the function's outcome or raise DeliveryError saying whether a retry can help.
An outcome such as ignored_stale is an answer, not an error: the database already knows better.

PsycopgTransport also sends a whole batch (everything the reporter has queued: one tick's
heartbeats of every job) in one call to report_job_statuses(). HttpTransport stays one report per
POST: the seed's persist route takes one job dict, and a batch body needs that route changed too.
"""
from __future__ import annotations

import json
from typing import Any, Protocol

import httpx

from .report import OUTCOMES, Report


class DeliveryError(Exception):
    """retryable: the path is down (retry from the journal); else the report itself is refused."""

    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class Transport(Protocol):
    def send(self, report: Report) -> str: ...

    def close(self) -> None: ...


class BatchTransport(Transport, Protocol):
    def send_batch(self, reports: list[Report]) -> list[str | DeliveryError]:
        """One answer per report, in order: an outcome, or why this report was refused.
        Raises DeliveryError only when the call as a whole failed."""
        ...


def route_body(report: Report) -> dict[str, Any]:
    """The seed's job dict plus attempt and seq: what the persist route passes to report_job_status()."""
    body: dict[str, Any] = dict(report.row or {})
    body.update(id=report.job_id, job_id=report.job_id, attempt=report.attempt, seq=report.seq,
                status=report.status, progress=report.progress, error=report.error)
    return body


class HttpTransport:
    """POST to the Next.js persist route (the seed's `/api/training/local/jobs`).

    200 with an outcome: delivered. 409: delivered, the database refused it as stale or fenced.
    401/403: our credentials are wrong, not the report: keep it (journaled) and retry, so fixing
    the secret loses nothing. Other 4xx: this report will never be accepted, drop it. 5xx, 429,
    timeouts, refused connections, non-JSON answers (a proxy's error page): the route is down,
    retry later.
    """

    def __init__(self, url: str, headers: dict[str, str] | None = None, timeout: float = 10.0,
                 client: httpx.Client | None = None) -> None:
        self.url = url
        self._client = client or httpx.Client(timeout=timeout, headers=headers)

    def send(self, report: Report) -> str:
        try:
            response = self._client.post(self.url, json=route_body(report))
        except httpx.HTTPError as error:  # refused, reset, timed out, DNS
            raise DeliveryError(f"persist route unreachable: {error!r}", retryable=True) from error
        status = response.status_code
        if status >= 500 or status in (408, 429):
            raise DeliveryError(f"persist route answered {status}", retryable=True)
        if status in (401, 403):
            raise DeliveryError(f"persist route refused our credentials ({status}): check the route's secret; "
                                "reports are kept in the journal until it is fixed", retryable=True)
        try:
            body = response.json()
        except ValueError:
            raise DeliveryError(f"persist route answered {status} without JSON", retryable=True) from None
        outcome = body.get("outcome") if isinstance(body, dict) else None
        if 200 <= status < 300:
            # A route not yet upgraded answers without an outcome: it took the write.
            return outcome if outcome in OUTCOMES else "applied"
        if status == 409:
            return outcome if outcome in OUTCOMES else "ignored_stale"
        raise DeliveryError(f"persist route refused the report ({status}): {json.dumps(body)[:200]}",
                            retryable=False)

    def close(self) -> None:
        self._client.close()


# SQLSTATE classes and codes worth retrying; everything else the database chose to send is about
# the report itself. The same list as reporter/src/retryable-errors.ts.
_RETRYABLE_SQLSTATES = {"08000", "08003", "08006", "08001", "08004", "57P01", "57P02", "57P03",
                        "53300", "40001", "40P01"}

_CREATE_ROW = """
insert into public.local_training_jobs (id, user_id, model_name, status, config)
values (%(id)s, %(user_id)s, %(model_name)s, 'queued', coalesce(%(config)s::jsonb, '{}'::jsonb))
on conflict (id) do nothing
"""


_CREATE_ROWS = """
insert into public.local_training_jobs (id, user_id, model_name, status, config)
select id, user_id, model_name, 'queued', coalesce(config, '{}'::jsonb)
from unnest(%(ids)s::uuid[], %(user_ids)s::uuid[], %(model_names)s::text[], %(configs)s::jsonb[])
  as r(id, user_id, model_name, config)
on conflict (id) do nothing
"""


class PsycopgTransport:
    """report_job_status() over one Postgres connection, as the service role.

    A report carrying the job's row creates it first (insert if absent), as the seed's
    persist_job() does on POST /api/training/execute. The connection is reopened after a failure.
    """

    def __init__(self, conninfo: str, role: str | None = "service_role", connect_timeout: int = 5) -> None:
        self.conninfo = conninfo
        self.role = role
        self.connect_timeout = connect_timeout
        self._conn: Any = None

    def _connection(self) -> Any:
        import psycopg  # the optional extra: only this transport needs it

        if self._conn is None or self._conn.closed:
            options = f"-c role={self.role}" if self.role else None
            self._conn = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=self.connect_timeout,
                                         options=options)
        return self._conn

    def send(self, report: Report) -> str:
        import psycopg

        try:
            conn = self._connection()
            with conn.transaction():
                if report.row:  # the first report of a job carries its fields: create the row if absent
                    row = report.row
                    conn.execute(_CREATE_ROW, {
                        "id": report.job_id, "user_id": row.get("user_id"), "model_name": row.get("model_name"),
                        "config": json.dumps(row.get("config") or {})})
                result = conn.execute(
                    "select public.report_job_status(%s, %s, %s, %s, %s, %s)",
                    (report.job_id, report.attempt, report.seq, report.status, report.progress, report.error),
                ).fetchone()
            return str(result[0]["outcome"])
        except psycopg.Error as error:
            code = getattr(error, "sqlstate", None)
            retryable = code is None or code in _RETRYABLE_SQLSTATES
            if retryable:
                self.close()
            raise DeliveryError(f"report_job_status: {error}".strip(), retryable=retryable) from error

    def send_batch(self, reports: list[Report]) -> list[str | DeliveryError]:
        import psycopg

        try:
            conn = self._connection()
            with conn.transaction():
                new_rows = [r for r in reports if r.row]
                if new_rows:  # first reports of jobs: create their rows if absent, in one statement
                    conn.execute(_CREATE_ROWS, {
                        "ids": [r.job_id for r in new_rows],
                        "user_ids": [(r.row or {}).get("user_id") for r in new_rows],
                        "model_names": [(r.row or {}).get("model_name") for r in new_rows],
                        "configs": [json.dumps((r.row or {}).get("config") or {}) for r in new_rows]})
                rows = conn.execute(
                    "select ord, outcome, error_code, error from public.report_job_statuses("
                    "%s::uuid[], %s::int[], %s::bigint[], %s::text[], %s::float8[], %s::text[])",
                    ([r.job_id for r in reports], [r.attempt for r in reports], [r.seq for r in reports],
                     [r.status for r in reports], [r.progress for r in reports], [r.error for r in reports]),
                ).fetchall()
        except psycopg.Error as error:
            code = getattr(error, "sqlstate", None)
            retryable = code is None or code in _RETRYABLE_SQLSTATES
            if retryable:
                self.close()
            raise DeliveryError(f"report_job_statuses: {error}".strip(), retryable=retryable) from error
        results: list[str | DeliveryError] = [
            DeliveryError("report_job_statuses: no answer for this report", retryable=True)] * len(reports)
        for ord_, outcome, code, message in rows:
            results[ord_ - 1] = (str(outcome) if outcome != "rejected" else
                                 DeliveryError(str(message), retryable=code in _RETRYABLE_SQLSTATES))
        return results

    def attempt_of(self, job_id: str) -> int:
        """The row's current attempt (1 when it has none yet): what a resumed job reports with."""
        row = self._connection().execute(
            "select attempt from public.local_training_jobs where id = %s", (job_id,)).fetchone()
        return int(row[0]) if row else 1

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None
