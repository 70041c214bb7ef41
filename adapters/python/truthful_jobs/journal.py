"""A durable local journal of reports not yet delivered: JSON lines, fsync'd on every append.

Why: the seed's persist_job() tried three times and then forgot the report, so a job that
finished while Next.js was down stayed `running` in the table (scenario 3). Here a report the
route cannot take is written to disk before anyone is told it was taken, read back after a
restart, and replayed in order.

Bounded: heartbeats of one job and attempt are merged (only the newest is kept); past the bound
the oldest heartbeats are dropped with one warning. Status changes (terminal ones above all) are
never dropped. Same rules as reporter/src/journal.ts.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Callable, Iterable

from .report import Report

log = logging.getLogger("truthful_jobs.journal")


class Journal:
    def __init__(self, path: str | os.PathLike[str], max_entries: int = 10_000,
                 on_warning: Callable[[str], None] | None = None) -> None:
        self.path = Path(path)
        self.max_entries = max_entries
        self._warn = on_warning or log.warning
        self._entries: dict[int, Report] = {}
        self._lines = 0
        self._warned = False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._load()

    # --- reading ---------------------------------------------------------------------------

    def _load(self) -> None:
        try:
            text = self.path.read_text("utf-8")
        except FileNotFoundError:
            return
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                report = Report.from_json(json.loads(line))
            except ValueError:
                continue  # a line torn by a crash mid-write: it was never acknowledged
            if report is not None:
                self._merge(report)
        self._enforce_bound()
        self._rewrite()

    def pending(self) -> list[Report]:
        """Oldest first: replay order is seq order, as the database orders them."""
        return sorted(self._entries.values(), key=lambda r: r.seq)

    def __len__(self) -> int:
        return len(self._entries)

    # --- writing ---------------------------------------------------------------------------

    def append(self, reports: Iterable[Report]) -> None:
        """Merges, bounds, and makes the reports durable before returning."""
        batch = list(reports)
        if not batch:
            return
        for report in batch:
            self._merge(report)
        dropped = self._enforce_bound()
        if dropped or self._lines + len(batch) > 2 * self.max_entries:
            self._rewrite()  # compaction: merged-away heartbeats would otherwise pile up on disk
            return
        self._write("".join(json.dumps(r.to_json()) + "\n" for r in batch), "a", self.path)
        self._lines += len(batch)

    def remove(self, seqs: Iterable[int]) -> None:
        """Forgets delivered reports. A crash before this replays them: seq makes that harmless."""
        before = len(self._entries)
        for seq in seqs:
            self._entries.pop(seq, None)
        if len(self._entries) != before:
            self._rewrite()

    def clear(self) -> None:
        self._entries.clear()
        self._rewrite()

    def _merge(self, report: Report) -> None:
        if report.mergeable:
            older = next((r for r in self._entries.values() if r.mergeable and r.same_stream(report)), None)
            if older is not None:
                if older.seq >= report.seq:
                    return
                del self._entries[older.seq]
        self._entries.setdefault(report.seq, report)

    def _enforce_bound(self) -> bool:
        excess = len(self._entries) - self.max_entries
        if excess <= 0:
            return False
        if not self._warned:
            self._warn(f"journal {self.path} reached its bound of {self.max_entries} reports; "
                       "dropping the oldest heartbeats (status changes are kept)")
            self._warned = True
        heartbeats = sorted((r for r in self._entries.values() if r.mergeable), key=lambda r: r.seq)
        for report in heartbeats[:excess]:
            del self._entries[report.seq]
        return True

    def _rewrite(self) -> None:
        if not self._entries:
            self.path.unlink(missing_ok=True)
            self._lines = 0
            return
        # Write aside, fsync, rename, fsync the directory: a crash leaves the old file or the new one.
        tmp = self.path.with_name(self.path.name + ".tmp")
        pending = self.pending()
        self._write("".join(json.dumps(r.to_json()) + "\n" for r in pending), "w", tmp)
        os.replace(tmp, self.path)
        fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        self._lines = len(pending)

    @staticmethod
    def _write(text: str, mode: str, path: Path) -> None:
        with open(path, mode, encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
