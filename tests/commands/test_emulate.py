"""`ssoform emulate`: each emulator listens before its URL is printed; port 0 lets the system
pick a free port for each, and a port already taken is a one-line error."""

from __future__ import annotations

import os
import signal
import socket

import httpx
import pytest

from served import start_emulators
from ssoform.cli import main


def test_port_zero_serves_each_emulator_on_the_port_it_prints() -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    server, ports = start_emulators(["--only", "cloudflare", "--only", "vantage"], env)
    try:
        assert sorted(ports) == ["cloudflare", "vantage"]
        assert ports["cloudflare"] != ports["vantage"]
        listed = httpx.get(
            f"http://127.0.0.1:{ports['vantage']}/v2/managed_accounts",
            headers={"Authorization": "Bearer vantage-emulator-token"},
            timeout=30,
        )
        assert listed.status_code == 200 and "managed_accounts" in listed.json()
        stats = httpx.get(f"http://127.0.0.1:{ports['cloudflare']}/_emulator/stats", timeout=30)
        assert stats.json() == {"calls": {}, "answers": {}}
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)
    # uvicorn shuts down, then ends by the signal it caught (as the process did before port 0)
    assert server.returncode in (0, -signal.SIGTERM), stderr
    assert "Traceback" not in stderr


def test_a_port_already_taken_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        if port > 65000:  # --port stops there; the system's ephemeral range seldom reaches it
            pytest.skip(f"the system picked port {port}, beyond --port's range")
        assert main(["emulate", "--port", str(port), "--only", "cloudflare"]) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        f"error: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


@pytest.mark.parametrize("port", ["1", "80", "1023"])
def test_a_privileged_port_is_refused(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emulate", "--port", port, "--only", "cloudflare"]) == 1
    err = capsys.readouterr().err
    assert f"{port} is a privileged port: give 0, or 1024 to 65000" in err
    assert "Traceback" not in err
