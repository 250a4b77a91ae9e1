"""Output a user can use: whole identifiers when piped, one way to count, hints for empty lists,
and run ids that may be typed by their start."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from conftest import basic_files, glueform, glueform_json, write_project

from glueform.console import RichConsole, count, duration, number

LONG = "a_model_whose_name_is_far_longer_than_any_column_of_an_eighty_character_terminal_would_be"


def test_counts_numbers_and_durations_read_as_written() -> None:
    assert [count(1, "model"), count(2, "model"), count(1204, "file")] == [
        "1 model", "2 models", "1,204 files",
    ]  # fmt: skip
    assert count(0, "match", "matches") == "0 matches"
    assert [number(1234567), number(None), number(True), number("x")] == [
        "1,234,567", "", "True", "x",
    ]  # fmt: skip
    assert [duration(7200), duration(5400), duration(90), duration(45), duration(1.5)] == [
        "2h", "90m", "90s", "45s", "1.5s",
    ]  # fmt: skip
    assert duration(None) == ""


def test_a_table_in_a_pipe_keeps_every_value_whole() -> None:
    stream = io.StringIO()
    console = RichConsole(stream)
    path = "/" + "/".join(["deep"] * 30) + "/orders.parquet"
    console.table("2 tables", ["table", "rows", "location"], [[LONG, 1234, path], ["b", 5, "x"]],
                  right={"rows"})  # fmt: skip
    lines = stream.getvalue().splitlines()
    assert lines[0] == "2 tables"
    assert lines[1].split() == ["table", "rows", "location"]
    assert lines[2].split() == [LONG, "1,234", path]
    assert lines[3].split() == ["b", "5", "x"]
    assert lines[2].index("1,234") + len("1,234") == lines[3].index("5") + 1  # right-aligned


def test_a_table_on_a_narrow_terminal_folds_instead_of_cutting() -> None:
    from rich.console import Console

    stream = io.StringIO()
    console = RichConsole(stream)
    console.out = Console(file=stream, force_terminal=True, width=40, color_system=None)
    console.table("1 table", ["table", "rows"], [[LONG, 1]])
    text = stream.getvalue()
    assert "…" not in text
    folded = "".join(line.strip("│┃ ").split("│")[0].strip() for line in text.splitlines())
    assert LONG in folded


def test_an_empty_list_prints_a_hint(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", basic_files())
    result = glueform("catalog", "ls", "-p", str(root))
    assert result.exit_code == 0
    assert result.stdout == "0 tables\n"
    assert "hint: glueform run builds the models' tables" in result.stderr
    jobs = glueform("jobs", "ls", "-p", str(root))
    assert jobs.stdout == "0 jobs\n" and "jobs/*.yml" in jobs.stderr


def test_times_show_their_zone_and_timeouts_their_unit(tmp_path: Path) -> None:
    files = basic_files()
    files["jobs/jobs.yml"] = (
        "jobs:\n  - {name: nightly, select: [stg_orders], timeout: 2h}\n"
        'triggers:\n  - {name: at_two, type: schedule, schedule: "0 2 * * *", jobs: [nightly]}\n'
    )
    root = write_project(tmp_path / "p", files)
    out = glueform("jobs", "ls", "-p", str(root)).stdout
    row = next(line for line in out.splitlines() if line.startswith("nightly"))
    assert " 2h " in f"{row} " and time.strftime("%Z") in row, out
    assert out.startswith("1 job\n")


def test_logs_take_the_unique_start_of_a_run_id(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", basic_files())
    first = glueform_json("run", "-p", str(root))["run_id"]
    time.sleep(1.1)  # run ids start with the second they began
    second = glueform_json("run", "-p", str(root))["run_id"]
    common = next(i for i, (a, b) in enumerate(zip(first, second, strict=True)) if a != b)
    log = glueform_json("logs", second[: common + 1], "-p", str(root))
    assert {r["run_id"] for r in log} == {second} and len(log) == 3
    ambiguous = glueform("logs", first[:common], "-p", str(root))
    assert ambiguous.exit_code == 2
    assert "is the start of 2 run ids" in ambiguous.stderr and first in ambiguous.stderr


@pytest.mark.parametrize("prefix", ["nothing-like-it", "2"])
def test_logs_of_no_such_run_is_a_user_error(tmp_path: Path, prefix: str) -> None:
    root = write_project(tmp_path / "p", basic_files())
    result = glueform("logs", prefix, "-p", str(root))
    assert result.exit_code == 2 and "no log for run" in result.stderr
