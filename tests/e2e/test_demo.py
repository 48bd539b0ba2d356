"""`nt-deploy demo` end to end: the real command as a user runs it, in its own process.

The demo starts its own local world, so these tests use none of conftest's fixtures.
The two full runs take about 40 s each; the refusals take a second or two.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import boto3  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]
ALARM = "neuraltrade-api-error-rate-production"
INSTALL_HINT = "pip install 'nt-deploy[demo]'"


def demo_env() -> dict[str, str]:
    """The user's environment, minus settings that would change the demo (NT_DEPLOY_*)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NT_DEPLOY_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def nt_deploy(*args: str) -> list[str]:
    return [sys.executable, "-m", "neuraltrade_deploy", *args]


def port_open(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def summary_row(stdout: str, label: str) -> str:
    summary = stdout.split("\nsummary\n", 1)[1]
    return next(line for line in summary.splitlines() if line.strip().startswith(label))


def test_demo_promotes_then_rolls_back_on_the_alarm_in_under_a_minute() -> None:
    """Both outcomes, read back from the world, in the narration and the summary; exit 0;
    under 60 s wall time; the temporary folder removed and nothing left running."""
    started = time.monotonic()
    done = subprocess.run(
        nt_deploy("demo"), env=demo_env(), capture_output=True, text=True, timeout=150
    )
    took = time.monotonic() - started
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr
    assert took < 60, f"the demo took {took:.1f}s"
    assert "$ nt-deploy deploy --image neuraltrade/api:2.0.0" in out
    assert "exit 0 (promoted)" in out
    # the canary smoke goes through the ALB by the canary's own route, not to its tasks
    assert "and the canary by its test route (X-Canary: 1, traffic.test_rule)" in out
    assert "deployment record PROMOTED; listener rule stable 100% / canary 0%" in out
    assert "traffic/s: 2.0.0" in out
    assert "2.1.0" in out  # the narration shows the split
    assert "setting CloudWatch alarm" not in out  # nothing set by hand
    assert re.search(
        rf"rollback_started \[warning\] alarm in ALARM: {ALARM} \(Threshold Crossed", out
    ), out
    assert "exit 3 (rolled back automatically)" in out
    assert "deployment record ROLLED_BACK; listener rule stable 100% / canary 0%" in out
    first, second = summary_row(out, "1/2"), summary_row(out, "2/2")
    assert re.search(r"neuraltrade/api:2\.0\.0\s+0\s+promoted\s+stable 100% / canary 0%", first)
    assert re.search(r"\d+s\s+\d+\s+0\s+-$", first.rstrip()), first  # zero failed requests
    assert re.search(r"\d+s\s+\d+\s+[1-9]\d*\s+\d+\.\ds$", second.rstrip()), second
    assert "(neuraltrade/api:2.0.0)" in first
    assert re.search(
        r"neuraltrade/api:2\.1\.0\s+3\s+rolled back automatically\s+stable 100% / canary 0%",
        second,
    )
    assert "(neuraltrade/api:2.0.0)" in second  # the stable still runs the first image
    assert "both outcomes as expected" in out
    assert "nothing left running (no thread, no open port)." in out
    folder = re.search(r"removed (/\S+)\.", out)
    assert folder is not None
    assert not Path(folder.group(1)).exists()
    assert "Traceback" not in out + done.stderr


def read_lines(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)
    lines.put("")  # end of output: the process is gone


def test_demo_keep_serves_the_world_until_sigint_then_stops_everything() -> None:
    """--keep: after both runs the world answers at the printed AWS_ENDPOINT_URL; one
    SIGINT stops it at once (exit 0 or 130), the port closes, the folder is removed."""
    process = subprocess.Popen(
        nt_deploy("demo", "--keep", "--bake", "2s"),
        env=demo_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=read_lines, args=(process.stdout, lines), daemon=True).start()
    seen: list[str] = []
    endpoint = folder = None
    deadline = time.monotonic() + 150
    try:
        while folder is None:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line, f"the demo ended before serving:\n{''.join(seen)}"
            seen.append(line)
            if match := re.search(r"export AWS_ENDPOINT_URL=(\S+)", line):
                endpoint = match.group(1)
            if endpoint and (match := re.search(r"^\s+cd (\S+)", line)):
                folder = Path(match.group(1))
        assert "both outcomes as expected" in "".join(seen)
        ecs = boto3.client(
            "ecs",
            region_name="us-east-1",
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        assert any("neuraltrade-production" in arn for arn in ecs.list_clusters()["clusterArns"])
        assert (folder / "deploy.yaml").is_file()
        interrupted = time.monotonic()
        process.send_signal(signal.SIGINT)
        status = process.wait(timeout=20)
        stopped_in = time.monotonic() - interrupted
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert status in (0, 130), "".join(seen)
    assert stopped_in < 10, f"stopping took {stopped_in:.1f}s"
    assert endpoint is not None
    assert not port_open(endpoint)
    assert not folder.exists()


def test_ctrl_c_during_a_deployment_lets_the_cli_roll_back_then_exits_130() -> None:
    """SIGINT mid-deployment: the demo hands it to the CLI (which rolls back, exit 130)
    while the world is still up, then stops everything and exits 130 itself."""
    process = subprocess.Popen(
        nt_deploy("demo"),
        env=demo_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    seen = []
    try:
        for line in process.stdout:
            seen.append(line)
            if "weight_verified" in line and "canary 10%" in line:
                process.send_signal(signal.SIGINT)
                break
        rest, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    out = "".join(seen) + rest
    assert process.returncode == 130, out + stderr
    assert "rollback_started [warning] interrupted" in out
    assert "exit 130 (interrupted, rolled back)" in out
    assert "deployment record ROLLED_BACK; listener rule stable 100% / canary 0%" in out
    assert "2/2 deploy" not in out  # the second run never starts
    assert "nothing left running (no thread, no open port)." in out
    assert "demo interrupted by SIGINT" in stderr


def test_demo_without_moto_says_which_extra_to_install() -> None:
    """No moto (the `demo` extra): exit 2 and one line naming the pip command."""
    code = (
        "import sys; sys.modules['moto'] = None\n"
        "from neuraltrade_deploy.cli import run\n"
        "sys.exit(run(['demo']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=demo_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("nt-deploy:")]
    assert len(errors) == 1, done.stderr
    assert INSTALL_HINT in errors[0], done.stderr
    assert "Traceback" not in done.stderr


def test_demo_refuses_a_dir_with_someone_elses_deploy_yaml_and_leaves_it(tmp_path: Path) -> None:
    """--dir never overwrites a real project's deploy.yaml: exit 2, file untouched."""
    mine = tmp_path / "deploy.yaml"
    mine.write_text("version: 1\n# the team's real config\n")
    done = subprocess.run(
        nt_deploy("demo", "--dir", str(tmp_path)),
        env=demo_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "did not write" in done.stderr
    assert mine.read_text() == "version: 1\n# the team's real config\n"
    assert not (tmp_path / "task-definitions").exists()


def test_demo_refuses_a_bake_too_short_for_the_alarm() -> None:
    """The alarm lands a third into the 50% bake; under 2 s there is no room: exit 2."""
    done = subprocess.run(
        nt_deploy("demo", "--bake", "1s"),
        env=demo_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "--bake: at least 2s" in done.stderr, done.stderr
