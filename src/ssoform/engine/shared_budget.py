"""A provider's request budget shared by every run that uses the same PostgreSQL state server.

Runs on different machines that use one provider credential at once (a nightly drift and two
pull-request plans on one Cloudflare token) must together stay within the provider's limit. Each
request first takes a token from the database: a row per token spent, which comes back one
window (plus slack and a latency margin) after the answer to its request arrived. A run takes a
few tokens per round trip (a lease it uses within a short time or gives back) and records
answers a few at a time, under a transaction-scoped advisory lock per budget, timed by the
database's clock (runners' clocks may disagree). A budget is keyed by the provider type, its
base URL and a keyed fingerprint of the credential (an HMAC under a random key kept in the
database), never the credential itself.
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
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import psycopg

from ssoform.engine.limits import slack_for

__all__ = ["PostgresBudgets", "SharedBudgets", "SharedToken", "lease_size", "lease_ttl"]

_RATE_CLASS = 0x5550F1
_ANSWER_MARGIN = 0.05
"""Seconds added after the answer: a token comes back one window (plus slack) after the answer
to its request arrived, as in the in-process bucket, so however long the request took to leave
and be counted, no more than the limit reach the provider in any window."""
_LONGEST_REQUEST = 60.0
"""Until its answer is recorded, a token is held for a window plus this long (a run killed
mid-request gives its tokens back this late)."""


def lease_size(limit: int) -> int:
    """Tokens taken per database round trip: a few, so that runs sharing a budget each keep
    only a small part of it unused at a time."""
    return max(1, min(8, limit // 8))


def lease_ttl(window: float) -> float:
    """How long a leased token stays usable before it is given back unused."""
    return min(1.0, window / 20)


class SharedToken(Protocol):
    async def take(self) -> float:
        """0 when a token was granted, else the seconds until one comes back."""
        ...

    def release(self) -> None:
        """The answer to a request that took a token arrived."""
        ...

    async def finish(self) -> None:
        """The run sends nothing more: give back tokens leased but unused."""
        ...


class SharedBudgets(Protocol):
    def key_for(self, provider_type: str, base_url: str, credentials: Mapping[str, str]) -> str: ...

    def taker(self, key: str, limit: int, window: float) -> SharedToken: ...


class PostgresBudgets:
    """Shared budgets in the state database (one connection, used by one thread at a time)."""

    def __init__(
        self,
        connect: Callable[[], psycopg.Connection[Any]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._connect = connect
        self._clock = clock
        self._conn: psycopg.Connection[Any] | None = None
        self._mutex = threading.Lock()
        self._key: bytes | None = None
        self._off = False
        self._granted: dict[str, collections.deque[int]] = collections.defaultdict(
            collections.deque
        )
        """Tokens whose requests are in flight, oldest first."""
        self._leased: dict[str, collections.deque[tuple[int, float]]] = collections.defaultdict(
            collections.deque
        )
        """Tokens taken for this run but not yet used, each with when it stops being usable."""
        self._answered: dict[str, list[tuple[int, float]]] = collections.defaultdict(list)
        """Tokens whose answers arrived (and when), not yet recorded in the database."""
        self._unused: dict[str, list[int]] = collections.defaultdict(list)
        """Leased tokens never used, to delete from the database."""
        self._lease_sizes: dict[str, int] = {}
        self._finished: set[str] = set()

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
        with self._mutex:
            self._finished.discard(key)
            if self._off:
                return 0.0
            now = self._clock()
            leased = self._leased[key]
            while leased and leased[0][1] <= now:
                self._unused[key].append(leased.popleft()[0])  # expired here: give it back
            if leased:
                self._granted[key].append(leased.popleft()[0])
                return 0.0
            try:
                return self._take(key, limit, window, now)
            except psycopg.Error:
                self._turn_off()
                return 0.0

    def release(self, key: str, window: float) -> None:
        """The answer to the oldest request in flight on `key` arrived: its token comes back
        one window (plus slack) from now. Answers are recorded in the database with the next
        lease, or once a lease's worth have arrived or nothing is left in flight, each dated
        when it arrived (by this clock's seconds since, counted back from the database's)."""
        with self._mutex:
            if self._off or not self._granted[key]:
                return
            self._answered[key].append((self._granted[key].popleft(), self._clock()))
            waiting = self._granted[key] and key not in self._finished
            if len(self._answered[key]) < self._lease_size(key) and waiting:
                return
            if not self._granted[key]:  # quiet: give back what this run has not used
                self._give_back_leased(key)
            self._settle_now(key, window)

    def finish(self, key: str, window: float) -> None:
        """The run is done with `key`: record the answers still pending and give back the
        tokens leased but never used."""
        with self._mutex:
            self._finished.add(key)  # answers still on their way are recorded as they come
            if self._off:
                return
            self._give_back_leased(key)
            if not self._answered[key] and not self._unused[key]:
                return
            self._settle_now(key, window)

    def _give_back_leased(self, key: str) -> None:
        self._unused[key].extend(token for token, _ in self._leased[key])
        self._leased[key].clear()

    def _settle_now(self, key: str, window: float) -> None:
        """Record `key`'s pending answers and unused tokens now; a database that refuses turns
        sharing off for this run."""
        try:
            conn = self._connection()
            now = self._clock()  # before the database's: answers are never dated early
            with conn.transaction():
                self._settle(conn, key, window, self._database_now(conn), now)
        except psycopg.Error:
            self._turn_off()

    def _turn_off(self) -> None:
        self._off = True
        self.close()

    def _lease_size(self, key: str) -> int:
        return self._lease_sizes.get(key, 1)

    @staticmethod
    def _database_now(conn: psycopg.Connection[Any]) -> float:
        row = conn.execute("SELECT extract(epoch FROM clock_timestamp())").fetchone()
        assert row is not None
        return float(row[0])

    def _settle(
        self, conn: psycopg.Connection[Any], key: str, window: float, db_now: float, now: float
    ) -> None:
        """Date the answers that arrived (`now` was read before `db_now`, so each is dated no
        earlier than it arrived) and delete the tokens leased but never used."""
        back = window + slack_for(window) + _ANSWER_MARGIN
        answered = self._answered[key]
        if answered:
            conn.execute(
                "UPDATE ssoform_rate_spent AS s SET back_at = a.back_at FROM "
                "unnest(%s::bigint[], %s::float8[]) AS a(id, back_at) WHERE s.id = a.id",
                (
                    [token for token, _ in answered],
                    [db_now - max(0.0, now - arrived) + back for _, arrived in answered],
                ),
            )
            answered.clear()
        unused = self._unused[key]
        if unused:
            conn.execute("DELETE FROM ssoform_rate_spent WHERE id = ANY(%s)", (list(unused),))
            unused.clear()

    def _take(self, key: str, limit: int, window: float, now: float) -> float:
        ttl = lease_ttl(window)
        hold = window + slack_for(window) + min(window, _LONGEST_REQUEST) + ttl
        size = self._lease_sizes.setdefault(key, lease_size(limit))
        lock_key = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") & 0x7FFFFFFF
        conn = self._connection()
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_RATE_CLASS, lock_key))
            db_now = self._database_now(conn)
            self._settle(conn, key, window, db_now, now)
            conn.execute(
                "DELETE FROM ssoform_rate_spent WHERE key = %s AND back_at <= %s", (key, db_now)
            )
            counted = conn.execute(
                "SELECT count(*), min(back_at) FROM ssoform_rate_spent WHERE key = %s",
                (key,),
            ).fetchone()
            assert counted is not None
            used, first = int(counted[0]), counted[1]
            if used >= limit:
                # Answers not yet recorded by other runs may bring tokens back sooner: ask again.
                return min(max(0.001, float(first) - db_now), max(ttl, 0.05))
            rows = conn.execute(
                "INSERT INTO ssoform_rate_spent (key, back_at) "
                "SELECT %s, %s FROM generate_series(1, %s) RETURNING id",
                (key, db_now + hold, min(size, limit - used)),
            ).fetchall()
        # Usable until `ttl` after this call began (no later than the database granted them):
        # the rows are held `ttl` longer than one request needs, so none comes back early.
        tokens = [int(row[0]) for row in rows]
        self._granted[key].append(tokens[0])
        self._leased[key].extend((token, now + ttl) for token in tokens[1:])
        return 0.0

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

    async def finish(self) -> None:
        await asyncio.to_thread(self.budgets.finish, self.key, self.window)
