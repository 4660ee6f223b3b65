"""Callbacks: a task that asks for them (`callbacks: true`, and a hook URL in its request)
has each change POSTed there, in its family's shape, with retries; the journal records every
delivery (dialect `callback`, the hook as endpoint, the status it got, or 0 when unreachable).

Deliveries run on a small thread pool, one task's in order, so a slow or dead hook never holds
up the request that moved the task.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from mockserver.journal.journal import Journal

BACKOFF = 0.1  # seconds before the first retry; doubled after each
TIMEOUT = 5.0


class Notifier:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._pending = 0
        self._idle = threading.Condition(self._lock)

    def send(self, url: str, body: dict[str, Any], retries: int) -> None:
        """Deliver `body` to `url` in the background (up to 1 + `retries` attempts)."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="callbacks")
            self._pending += 1
            pool = self._pool
        pool.submit(self._deliver, url, body, retries)

    def _deliver(self, url: str, body: dict[str, Any], retries: int) -> None:
        try:
            with httpx.Client(timeout=TIMEOUT) as client:
                for attempt in range(retries + 1):
                    with self.journal.closing():  # the entry reaches the log once complete
                        headers = {"content-type": "application/json"}
                        entry = self.journal.open("POST", url, headers)
                        entry.dialect, entry.body = "callback", body
                        try:
                            status = client.post(url, json=body).status_code
                        except httpx.HTTPError:
                            status = 0
                        entry.status = status
                    if 200 <= status < 300:
                        return
                    if attempt < retries:
                        time.sleep(BACKOFF * 2**attempt)
        finally:
            with self._lock:
                self._pending -= 1
                self._idle.notify_all()

    def wait(self, timeout: float = 10.0) -> bool:
        """Block until every delivery sent so far is done (for tests); whether they are."""
        with self._lock:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)
