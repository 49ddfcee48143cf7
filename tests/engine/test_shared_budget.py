"""Request budgets shared through the state database (real server): runs that use one credential
share its tokens, other credentials do not, and the key never holds the credential."""

from __future__ import annotations

from pathlib import Path

import psycopg

from ssoform.engine.backend import LocalStateBackend
from ssoform.engine.limits import TokenBucket
from ssoform.engine.postgres import PostgresStateBackend

TOKEN = "cf-token-5e1b7c"


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
    assert 360.0 < refused < 370.0  # held a window and the longest request until answered
    first.release(key, 300.0)  # the answer to the first request arrived
    refused = second.take(key, 5, 300.0)
    assert 300.0 < refused < 302.0  # now its token comes back a window after that answer
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
