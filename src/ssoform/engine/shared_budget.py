"""A provider's request budget shared by every run that uses the same PostgreSQL state server.

Runs on different machines that use one provider credential at once (a nightly drift and two
pull-request plans on one Cloudflare token) must together stay within the provider's limit. Each
request first takes a token from the database: a row per token spent, which comes back one
window (plus slack and a latency margin) after it was taken, under a transaction-scoped advisory
lock per budget, timed by the database's clock (runners' clocks may disagree). A budget is keyed
by the provider type, its base URL and a keyed fingerprint of the credential (an HMAC under a
random key kept in the database), never the credential itself.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import psycopg

from ssoform.engine.limits import slack_for

__all__ = ["PostgresBudgets", "SharedBudgets", "SharedToken"]

_RATE_CLASS = 0x5550F1
_ANSWER_MARGIN = 0.05
"""Seconds added after the answer: a token comes back one window (plus slack) after the answer
to its request arrived, as in the in-process bucket, so however long the request took to leave
and be counted, no more than the limit reach the provider in any window."""
_LONGEST_REQUEST = 60.0
"""Until its answer is recorded, a token is held for a window plus this long (a run killed
mid-request gives its tokens back this late)."""


class SharedToken(Protocol):
    async def take(self) -> float:
        """0 when a token was granted, else the seconds until one comes back."""
        ...

    def release(self) -> None:
        """The answer to a request that took a token arrived."""
        ...


class SharedBudgets(Protocol):
    def key_for(self, provider_type: str, base_url: str, credentials: Mapping[str, str]) -> str: ...

    def taker(self, key: str, limit: int, window: float) -> SharedToken: ...


class PostgresBudgets:
    """Shared budgets in the state database (one connection, used by one thread at a time)."""

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]]) -> None:
        self._connect = connect
        self._conn: psycopg.Connection[Any] | None = None
        self._mutex = threading.Lock()
        self._key: bytes | None = None
        self._off = False
        self._granted: dict[str, collections.deque[int]] = collections.defaultdict(
            collections.deque
        )

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = self._connect()
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _secret(self) -> bytes:
        if self._key is None:
            conn = self._connection()
            with conn.transaction():
                conn.execute(
                    "INSERT INTO ssoform_rate_key (key) VALUES (%s) ON CONFLICT DO NOTHING",
                    (base64.b64encode(secrets.token_bytes(32)).decode(),),
                )
                row = conn.execute("SELECT key FROM ssoform_rate_key").fetchone()
            assert row is not None
            self._key = base64.b64decode(row[0])
        return self._key

    def key_for(self, provider_type: str, base_url: str, credentials: Mapping[str, str]) -> str:
        with self._mutex:
            try:
                secret = self._secret()
            except psycopg.Error:
                self._off = True
                secret = secrets.token_bytes(32)  # unshared: any key will do
        material = json.dumps(sorted(credentials.items())).encode()
        digest = hmac.new(secret, material, hashlib.sha256).hexdigest()[:32]
        return f"{provider_type} {base_url.rstrip('/')} {digest}"

    def take(self, key: str, limit: int, window: float) -> float:
        """Take a token: 0 when granted, else the seconds until one comes back. A database that
        refuses (a read-only role, a dropped connection) turns sharing off for this run: the
        run keeps its own budget, as on a state file."""
        if self._off:
            return 0.0
        try:
            return self._take(key, limit, window)
        except psycopg.Error:
            self._off = True
            self.close()
            return 0.0

    def release(self, key: str, window: float) -> None:
        """The answer to the oldest request in flight on `key` arrived: its token comes back
        one window (plus slack) from now, by the database's clock."""
        with self._mutex:
            if self._off or not self._granted[key]:
                return
            token = self._granted[key].popleft()
            try:
                conn = self._connection()
                conn.execute(
                    "UPDATE ssoform_rate_spent SET back_at = "
                    "extract(epoch FROM clock_timestamp()) + %s WHERE id = %s",
                    (window + slack_for(window) + _ANSWER_MARGIN, token),
                )
            except psycopg.Error:
                self._off = True
                self.close()

    def _take(self, key: str, limit: int, window: float) -> float:
        hold = window + slack_for(window) + min(window, _LONGEST_REQUEST)
        lock_key = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") & 0x7FFFFFFF
        with self._mutex:
            conn = self._connection()
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_RATE_CLASS, lock_key))
                row = conn.execute("SELECT extract(epoch FROM clock_timestamp())").fetchone()
                assert row is not None
                now = float(row[0])
                conn.execute(
                    "DELETE FROM ssoform_rate_spent WHERE key = %s AND back_at <= %s", (key, now)
                )
                counted = conn.execute(
                    "SELECT count(*), min(back_at) FROM ssoform_rate_spent WHERE key = %s",
                    (key,),
                ).fetchone()
                assert counted is not None
                used, first = int(counted[0]), counted[1]
                if used < limit:
                    inserted = conn.execute(
                        "INSERT INTO ssoform_rate_spent (key, back_at) VALUES (%s, %s) "
                        "RETURNING id",
                        (key, now + hold),
                    ).fetchone()
                    assert inserted is not None
                    self._granted[key].append(int(inserted[0]))
                    return 0.0
                return max(0.001, float(first) - now)

    def taker(self, key: str, limit: int, window: float) -> SharedToken:
        return _Token(self, key, limit, window)


class _Token:
    """One provider instance's view of a shared budget."""

    def __init__(self, budgets: PostgresBudgets, key: str, limit: int, window: float) -> None:
        self.budgets, self.key, self.limit, self.window = budgets, key, limit, window

    async def take(self) -> float:
        return await asyncio.to_thread(self.budgets.take, self.key, self.limit, self.window)

    def release(self) -> None:
        loop = asyncio.get_running_loop()
        loop.run_in_executor(None, self.budgets.release, self.key, self.window)
