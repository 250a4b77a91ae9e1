"""Copy, move, clone and rollback trials in a loop: does any row go missing or come twice?

Each trial builds a small project with an incremental (append) model over CSV files and a
table model kept at ``keep_versions: 1``, then does one of the operations a user does to a
project and checks the invariants: every table equals a build from all of its files, and the
original project of a copy still reads all of its rows. Every glueform call is a whole process.

    python bench/copy_move_faults.py --seconds 600 [--glueform PATH]

Prints trials and survivals per fault type, and the seconds per trial against a baseline trial
without a fault (the same runs in one folder), measured in the same loop.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

GLUEFORM = [str(Path(sys.executable).parent / "glueform")]  # --glueform: another build of it
CONFIG = "name: shop\ntargets:\n  dev:\n    engine: duckdb\n    threads: 2\n    keep_versions: 1\n"
SOURCES = """\
sources:
  - name: raw
    tables:
      - name: events
        path: data/events/*.csv
        format: csv
        columns:
          - {name: id, type: BIGINT}
          - {name: v, type: BIGINT}
"""
MODELS = {
    "transforms/ev.sql": "{{ config(materialized='incremental', bookmark='enable') }}\n"
    "select id, v from {{ source('raw', 'events') }}\n",
    "transforms/total.sql": "{{ config(materialized='table') }}\n"
    "select count(*) as n, sum(v) as v from {{ ref('ev') }}\n",
}


class Trial:
    """One project in a folder of its own, and the files its source holds."""

    def __init__(self, root: Path, rng: random.Random, config: str = CONFIG) -> None:
        self.rng = rng
        self.root = root
        self.next_id = 0
        (root / "data/events").mkdir(parents=True)
        (root / "transforms").mkdir()
        (root / "sources").mkdir()
        (root / "glueform.yml").write_text(config)
        (root / "sources/raw.yml").write_text(SOURCES)
        for rel, text in MODELS.items():
            (root / rel).write_text(text)

    def add_file(self, root: Path | None = None) -> None:
        root = root or self.root
        n = self.rng.randint(1, 50)
        rows = [(self.next_id + i, self.rng.randint(0, 9)) for i in range(n)]
        self.next_id += n
        name = f"f{self.next_id:06d}.csv"
        (root / "data/events" / name).write_text("id,v\n" + "".join(f"{i},{v}\n" for i, v in rows))


def glueform(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GLUEFORM, *args], capture_output=True, text=True, check=False)


def run(root: Path) -> bool:
    return glueform("run", "-p", str(root), "--json").returncode == 0


def table_rows(root: Path, name: str) -> list[tuple[object, ...]] | None:
    import duckdb

    shown = glueform("catalog", "show", f"shop.{name}", "-p", str(root), "--json")
    if shown.returncode != 0:
        return None
    location = json.loads(shown.stdout)["location"]
    if not Path(location).is_dir():
        return None
    with duckdb.connect() as con:
        return sorted(con.execute(f"select * from read_parquet('{location}/*.parquet')").fetchall())


def file_rows(root: Path) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for path in sorted((root / "data/events").glob("*.csv")):
        for line in path.read_text().splitlines()[1:]:
            i, v = line.split(",")
            out.append((int(i), int(v)))
    return sorted(out)


def holds(root: Path) -> bool:
    """Both tables equal a build from every file of the source: nothing lost, nothing twice."""
    expected = file_rows(root)
    total = [(len(expected), sum(v for _, v in expected))] if expected else [(0, None)]
    return table_rows(root, "ev") == expected and table_rows(root, "total") == total


def baseline(base: Path, rng: random.Random) -> bool:
    t = Trial(base / "p", rng)
    for _ in range(3):
        t.add_file()
        if not run(t.root):
            return False
    return holds(t.root)


def copy(base: Path, rng: random.Random) -> bool:
    """cp -a, then runs in the copy (retention at keep_versions 1): the original reads all."""
    t = Trial(base / "orig", rng)
    for _ in range(rng.randint(1, 3)):
        t.add_file()
        run(t.root)
    dst = base / "copy"
    subprocess.run(["cp", "-a", str(t.root), str(dst)], check=True)
    for _ in range(2):
        t.add_file(dst)
        run(dst)
    return holds(t.root) and holds(dst)


def move(base: Path, rng: random.Random) -> bool:
    t = Trial(base / "orig", rng)
    for _ in range(rng.randint(1, 3)):
        t.add_file()
        run(t.root)
    dst = base / "elsewhere" / "moved"
    dst.parent.mkdir()
    subprocess.run(["mv", str(t.root), str(dst)], check=True)
    t.add_file(dst)
    run(dst)
    return holds(dst)


def clone(base: Path, rng: random.Random) -> bool:
    """Two checkouts sharing one catalog and warehouse, the same files reaching each by turns."""
    shared = (
        CONFIG + f"    warehouse: '{base / 'warehouse'}'\n"
        f"    catalog: 'sqlite:///{base / 'catalog.db'}'\n"
    )
    t = Trial(base / "a", rng, shared)
    t.add_file()
    run(t.root)
    b = base / "b"
    shutil.copytree(t.root, b, ignore=shutil.ignore_patterns(".glueform"))
    for path in (b / "data/events").iterdir():
        os.utime(path, (1e9, 1e9))  # a checkout's files have times of their own
    for _ in range(rng.randint(2, 4)):
        first, second = rng.sample([t.root, b], 2)
        t.add_file(first)
        shutil.copytree(first / "data/events", second / "data/events", dirs_exist_ok=True)
        run(first)
        run(second)
    return holds(t.root) and holds(b)


def rollback(base: Path, rng: random.Random) -> bool:
    """Runs, a rollback of the incremental model by one or more versions, a new file, a run."""
    t = Trial(base / "p", rng, CONFIG.replace("keep_versions: 1", "keep_versions: 10"))
    runs = rng.randint(2, 4)
    for _ in range(runs):
        t.add_file()
        run(t.root)
    to = rng.randint(1, runs - 1)
    glueform("catalog", "rollback", "shop.ev", "--to", str(to), "-p", str(t.root))
    t.add_file()
    run(t.root)
    return holds(t.root)


FAULTS: dict[str, Callable[[Path, random.Random], bool]] = {
    "baseline (no fault)": baseline,
    "cp -a": copy,
    "mv": move,
    "two checkouts": clone,
    "rollback": rollback,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--glueform", help="the glueform executable to try (default: beside this Python)"
    )
    args = parser.parse_args()
    if args.glueform:
        GLUEFORM[:] = [args.glueform]
    rng = random.Random(args.seed)
    stats = {name: [0, 0, 0.0] for name in FAULTS}  # trials, survived, seconds
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        for name, trial in FAULTS.items():
            with tempfile.TemporaryDirectory(prefix="glueform-fault-") as tmp:
                started = time.monotonic()
                ok = trial(Path(tmp), rng)
                entry = stats[name]
                entry[0] += 1
                entry[1] += int(ok)
                entry[2] += time.monotonic() - started
                if not ok:
                    print(f"FAILED: {name} (kept nothing; seed {args.seed})", flush=True)
    base_seconds = stats["baseline (no fault)"][2] / max(stats["baseline (no fault)"][0], 1)
    print(f"{'fault':<22}{'trials':>8}{'survived':>10}{'s/trial':>10}{'vs baseline':>13}")
    for name, (trials, survived, seconds) in stats.items():
        per = seconds / max(trials, 1)
        print(f"{name:<22}{trials:>8}{survived:>10}{per:>10.1f}{per / base_seconds:>12.2f}x")
    return 0 if all(s[0] == s[1] for s in stats.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
