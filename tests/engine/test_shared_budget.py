"""Request budgets shared through the state database (real server): runs that use one credential
share its tokens, other credentials do not, and the key never holds the credential."""

from __future__ import annotations

from pathlib import Path

import psycopg

from ssoform.engine.backend import LocalStateBackend
from ssoform.engine.limits import TokenBucket
from ssoform.engine.postgres import PostgresStateBackend
from ssoform.engine.shared_budget import PostgresBudgets, lease_size, lease_ttl

TOKEN = "cf-token-5e1b7c"


def _back_in(pg_url: str, key: str) -> list[float]:
    """Seconds until each of `key`'s spent tokens comes back, by the database's clock."""
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute(
            "SELECT back_at - extract(epoch FROM clock_timestamp()) FROM ssoform_rate_spent "
            "WHERE key = %s ORDER BY 1",
            (key,),
        ).fetchall()
    return [float(row[0]) for row in rows]


def test_two_runs_share_one_credentials_budget(pg_url: str) -> None:
    first = PostgresStateBackend(pg_url).rate_budgets()
    second = PostgresStateBackend(pg_url).rate_budgets()  # another run, its own connection
    key = first.key_for("cloudflare", "https://api.cloudflare.com/client/v4/", {"t": TOKEN})
    assert key == second.key_for("cloudflare", "https://api.cloudflare.com/client/v4", {"t": TOKEN})
    assert TOKEN not in key
    other = first.key_for("cloudflare", "https://api.cloudflare.com/client/v4", {"t": "another"})
    assert other != key

    granted = [first.take(key, 5, 300.0) for _ in range(3)]
    granted += [second.take(key, 5, 300.0) for _ in range(2)]
    assert granted == [0.0] * 5
    refused = second.take(key, 5, 300.0)
    assert 0.0 < refused <= lease_ttl(300.0)  # full: it asks again soon (answers may come)
    assert 360.0 < min(_back_in(pg_url, key)) < 370.0  # held a window and the longest request
    first.release(key, 300.0)  # the answer to the first request arrived
    assert second.take(key, 5, 300.0) > 0.0
    assert 300.0 < min(_back_in(pg_url, key)) < 302.0  # back a window after that answer
    assert first.take(other, 5, 300.0) == 0.0  # another credential: its own budget
    with psycopg.connect(pg_url) as conn:
        stored = conn.execute("SELECT DISTINCT key FROM ssoform_rate_spent").fetchall()
    assert all(TOKEN not in row[0] for row in stored)


async def test_a_bucket_waits_for_the_shared_budget() -> None:
    asked: list[int] = []
    released: list[int] = []

    class Shared:
        async def take(self) -> float:
            asked.append(1)
            return 0.0 if len(asked) > 2 else 0.001  # busy twice, then granted

        def release(self) -> None:
            released.append(1)

        async def finish(self) -> None:
            pass

    bucket = TokenBucket(10, 60.0)
    bucket.shared = Shared()
    waited = await bucket.acquire()
    assert len(asked) == 3
    assert waited >= 0.002
    assert bucket.available() == 9
    bucket.release()
    assert released == [1]


def test_no_shared_budget_on_a_file(tmp_path: Path) -> None:
    assert LocalStateBackend(tmp_path / "s.json").rate_budgets() is None


def test_a_read_only_role_keeps_its_own_budget(pg_url: str, pg_server: object) -> None:
    PostgresStateBackend(pg_url).read()  # the schema exists
    dbname = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS budget_reader")
        conn.execute("CREATE ROLE budget_reader LOGIN PASSWORD 'br-pw'")
        conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO budget_reader")
    host_port = pg_url.split("@", 1)[1].rsplit("/", 1)[0]
    reader = PostgresStateBackend(f"postgresql://budget_reader:br-pw@{host_port}/{dbname}")
    budgets = reader.rate_budgets()
    key = budgets.key_for("cloudflare", "https://api.cloudflare.com/client/v4", {"t": TOKEN})
    assert [budgets.take(key, 1, 300.0) for _ in range(3)] == [0.0, 0.0, 0.0]


def test_a_lease_takes_several_tokens_per_round_trip(pg_url: str) -> None:
    backend = PostgresStateBackend(pg_url)
    backend.read()  # the schema exists
    now = [0.0]
    leasing = PostgresBudgets(backend._connect, clock=lambda: now[0])
    other = PostgresStateBackend(pg_url).rate_budgets()  # another run
    key = leasing.key_for("cloudflare", "https://lease.example/client/v4", {"t": TOKEN})
    limit, window = 40, 300.0
    size, ttl = lease_size(limit), lease_ttl(window)
    assert (size, ttl) == (5, 1.0)

    assert [leasing.take(key, limit, window) for _ in range(size)] == [0.0] * size
    assert len(_back_in(pg_url, key)) == size  # one round trip took the whole lease
    assert leasing.take(key, limit, window) == 0.0
    assert len(_back_in(pg_url, key)) == 2 * size  # the next lease
    now[0] += ttl + 0.5  # the rest of it is no longer usable: given back with the next lease
    assert leasing.take(key, limit, window) == 0.0
    assert len(_back_in(pg_url, key)) == 3 * size - (size - 1)
    # The other run sees leased tokens as spent: together they never pass the limit.
    granted = 0
    while other.take(key, limit, window) == 0.0:
        granted += 1
    assert granted == limit - (2 * size + 1)
    assert all(back > window + 60 for back in _back_in(pg_url, key))  # none answered yet

    for _ in range(size - 1):  # answers are recorded a lease's worth at a time
        leasing.release(key, window)
    assert all(back > window + 60 for back in _back_in(pg_url, key))
    now[0] += 10.0
    leasing.release(key, window)
    backs = _back_in(pg_url, key)
    back = window + 1.55  # a window, its slack and the answer margin, from the answer
    assert all(back - 11 < early < back - 10 for early in backs[: size - 1])  # 10 s ago
    assert back - 1 < backs[size - 1] < back
    assert all(back > window + 60 for back in backs[size:])
    leasing.finish(key, window)  # the unused rest of the lease goes back
    assert len(backs) - len(_back_in(pg_url, key)) == size - 1
    assert other.take(key, limit, window) == 0.0  # which the other run can take at once
    leasing.release(key, window)  # an answer after the end: recorded at once
    assert sum(back < window + 60 for back in _back_in(pg_url, key)) == size + 1
