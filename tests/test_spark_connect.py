"""A Spark Connect target (``remote: sc://host:port``) against a real Spark Connect server,
started from the pyspark package for this module and stopped after it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import basic_files, write_project
from test_python_transforms import STATS

pytestmark = [pytest.mark.slow, pytest.mark.spark]
pyspark = pytest.importorskip("pyspark")
pytest.importorskip("grpc", reason="Spark Connect needs pyspark[connect]")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def connect_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = Path(pyspark.__file__).parent
    logs = tmp_path_factory.mktemp("connect")
    port = free_port()
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_LOG_DIR": str(logs),
        "SPARK_PID_DIR": str(logs),
    }
    subprocess.run(
        [
            "bash",
            str(home / "sbin/start-connect-server.sh"),
            "--master",
            "local[1]",
            "--conf",
            f"spark.connect.grpc.binding.port={port}",
            "--conf",
            "spark.ui.enabled=false",
            "--driver-java-options",
            "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
        ],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=60,
    )  # fmt: skip  (the server keeps no pipe of ours: it outlives the script)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the Spark Connect server did not start: " + "".join(
                p.read_text() for p in logs.glob("*.out")
            )[-2000:])  # fmt: skip
        yield f"sc://127.0.0.1:{port}"
    finally:
        subprocess.run(
            ["bash", str(home / "sbin/stop-connect-server.sh")],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )


def test_a_spark_connect_target_builds_the_same_tables(tmp_path: Path, connect_url: str) -> None:
    files = basic_files()
    target = (
        "  connect:\n    engine: spark\n    warehouse: warehouse-connect\n"
        f"    state: .glueform-connect\n    spark: {{remote: '{connect_url}'}}\n"
    )
    files["glueform.yml"] = files["glueform.yml"].replace("vars:", target + "vars:")
    files["transforms/marts/order_stats.py"] = STATS  # a Python transform on a remote session
    root = write_project(tmp_path / "p", files)
    # A process holds either a local Spark session or a remote one: the CLI, in its own process.
    run = cli_json("run", "-p", str(root), "-t", "connect")
    assert run["ok"], run
    assert {n["name"]: n["rows"] for n in run["nodes"]}["order_stats"] == 3
    report = cli_json("verify", "-p", str(root), "--against", "connect")
    assert report["ok"] and report["other"] == "connect", report
    assert sorted(t["name"] for t in report["tables"]) == ["customer_totals", "order_stats"]


def cli_json(*args: str) -> Any:
    exe = Path(sys.executable).with_name("glueform")
    out = subprocess.run(
        [str(exe), *args, "--json"], capture_output=True, text=True, timeout=240, check=False
    )
    assert out.stdout, out.stderr[-2000:]
    return json.loads(out.stdout)
