"""Agent memory and idle CPU: what `loaxa-agent` costs a commune's small machine.

Starts a demo server (`loaxa init --demo`, `loaxa serve`) in a temporary instance, issues a
station token, runs `loaxa-agent` (NullPlayer and VLC) against it with a 15 s poll, lets it
settle, then samples the agent process from /proc: resident memory and CPU time over a
quiet interval (manifest polls, heartbeats and log uploads included, nothing on air).

    .venv/bin/python benchmarks/agent_footprint.py [--quick]

Targets (issue #4): ≤ 100 MB resident, ≤ 1 % of one core when idle.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wait_http(url: str, timeout: float = 60) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server did not answer at {url}")


def measure(env: dict[str, str], server: str, token: str, player: str, settle: float,
            span: float, work: Path) -> tuple[float, float]:  # fmt: skip
    args = [str(BIN / "loaxa-agent"), "--server", server, "--token", token, "--poll", "15",
            "--player", player, "--cache", str(work / f"cache-{player}")]  # fmt: skip
    if player == "vlc":
        args += ["--audio-file", str(work / "air.wav")]
    agent = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        time.sleep(settle)
        if agent.poll() is not None:
            raise SystemExit(f"agent exited: {agent.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        cpu0, t0 = cpu_seconds(agent.pid), time.monotonic()
        peak = rss_mb(agent.pid)
        while time.monotonic() - t0 < span:
            time.sleep(1)
            peak = max(peak, rss_mb(agent.pid))
        cpu = (cpu_seconds(agent.pid) - cpu0) / (time.monotonic() - t0) * 100
        return peak, cpu
    finally:
        agent.terminate()
        agent.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short settle and sample times")
    opts = parser.parse_args()
    settle, span = (10.0, 20.0) if opts.quick else (30.0, 120.0)

    with tempfile.TemporaryDirectory(prefix="loaxa-footprint-") as tmp:
        work = Path(tmp)
        env = {**os.environ, "LOAXA_INSTANCE": str(work / "instance")}
        env.pop("LOAXA_DATABASE_URL", None)
        env.pop("LOAXA_MQTT_URL", None)
        subprocess.run([BIN / "loaxa", "init", "--demo"], env=env, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        token = subprocess.run([BIN / "loaxa", "token", "new", "13285"], env=env, check=True,
                               capture_output=True, text=True).stdout.strip()  # fmt: skip
        port = free_port()
        server = subprocess.Popen([BIN / "loaxa", "serve", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            wait_http(f"{url}/api/v1/health")
            print(f"machine: {platform.processor() or platform.machine()}, "
                  f"{os.cpu_count()} cores, Python {platform.python_version()}")  # fmt: skip
            print(f"settle {settle:.0f} s, then sample {span:.0f} s; poll every 15 s")
            for player in ("null", "vlc"):
                peak, cpu = measure(env, url, token, player, settle, span, work)
                print(f"agent --player {player:4}: peak RSS {peak:6.1f} MB, "
                      f"idle CPU {cpu:5.2f} % of one core")  # fmt: skip
        finally:
            server.terminate()
            server.wait(timeout=20)


if __name__ == "__main__":
    main()
