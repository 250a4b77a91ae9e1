#!/usr/bin/env python3
"""glueform benchmark: one command that generates the projects, times everything, and checks targets.

    python bench/run.py [--models 1000] [--rows 20000] [--big-models 50 --big-rows 5000000]
                        [--repeat 3] [--skip-dbt]

See bench/README.md. Every figure is a whole process (start-up, imports, work, exit), timed from
outside, each run from a clean state; the median of --repeat counted runs is reported.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
DEFAULT_ANCHORS = Path(__file__).resolve().parents[2] / "shared" / "bench"
OUT = BENCH / "out"
DBT_VENV = BENCH / ".venv-dbt"
DBT_PINS = {"dbt-core": "1.11.16", "dbt-duckdb": "1.11.1", "duckdb": "1.5.6"}

sys.path.insert(0, str(BENCH))
import gen_glueform  # noqa: E402

# Targets: (key, case name, kind, threshold). kind "abs": median < threshold seconds;
# "ratio": median / baseline median <= threshold.
TARGETS = [
    ("compile_cold", "glueform {compile} (cold)", "abs", 1.5),
    ("compile_warm", "glueform {compile} (warm)", "abs", 0.3),
    ("validate_cold", "glueform validate (cold)", "abs", 1.5),
    ("validate_warm", "glueform validate (warm)", "abs", 0.3),
    ("run_small", "glueform run --threads 2 [small]", "ratio", 1.3),
    ("run_big", "glueform run --threads 2 [big]", "ratio", 1.1),
    ("help", "glueform --help", "abs", 0.3),
]


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def rm(*paths: Path) -> None:
    for p in paths:
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        elif p.exists() or p.is_symlink():
            p.unlink()


def find_anchor_script(arg: str | None) -> Path:
    p = Path(arg) if arg else DEFAULT_ANCHORS
    if p.is_dir():
        p = p / "gen_anchor_projects.py"
    if not p.is_file():
        raise SystemExit(f"anchor generator not found: {p} (use --anchors PATH)")
    return p.resolve()


@dataclass
class Case:
    name: str  # unique display name
    cmd: list[str]
    cwd: Path
    prepare: Callable[[], None]  # untimed, before every run (cleaning, priming)
    group: str  # "startup" | "compile" | "run"
    project: str  # size label, e.g. "N=1000 R=20000"
    baseline: str | None = None  # name of the case this one is compared with
    warmup: bool = True  # take an untimed warm-up run first
    repeat: int = 3
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    peak_mib: list[float] = field(default_factory=list)
    error: str | None = None

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None


def run_once(case: Case, log_path: Path) -> tuple[float, float, float]:
    """Run the case's command once; return (wall s, cpu s, peak MiB). Raises on failure."""
    case.prepare()
    with open(log_path, "ab") as lf:
        lf.write(f"\n===== {case.name}: {' '.join(case.cmd)}  (cwd {case.cwd.name})\n".encode())
        lf.flush()
        t0 = time.perf_counter()
        p = subprocess.Popen(
            case.cmd, cwd=case.cwd, stdout=lf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        tail = log_path.read_text(errors="replace").splitlines()[-15:]
        raise RuntimeError(f"exit {p.returncode}; log {log_path}:\n    " + "\n    ".join(tail))
    maxrss_mib = ru.ru_maxrss / 1024  # Linux: KiB
    return wall, ru.ru_utime + ru.ru_stime, maxrss_mib


# --------------------------------------------------------------------------------------
# project generation (cached under bench/out/)
# --------------------------------------------------------------------------------------


def _edited_model(project: Path) -> Path:
    """The model the "one changed" case edits: a mid-DAG one (intermediate layer)."""
    return sorted((project / "transforms").rglob("int_*.sql"))[0]


def _toggle_comment(model: Path) -> None:
    """Change the model's text (a trailing comment added or removed): one model to redo."""
    text = model.read_text(encoding="utf-8")
    mark = "-- edited by bench\n"
    model.write_text(text[: -len(mark)] if text.endswith(mark) else text + mark, encoding="utf-8")


def ensure_case(anchor: Path, models: int, rows: int, seed: int, regen: bool) -> Path:
    case = OUT / f"n{models}_r{rows}_s{seed}"
    stamp = case / ".generated.json"
    want = {"models": models, "rows": rows, "seed": seed, "anchor_mtime": anchor.stat().st_mtime}
    have = json.loads(stamp.read_text()) if stamp.exists() else None
    if regen or have != want or not (case / "spec.json").exists():
        log(f"generating {case.name} ...")
        t0 = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                str(anchor),
                "--models",
                str(models),
                "--rows",
                str(rows),
                "--seed",
                str(seed),
                "--out",
                str(case),
                "--only",
                "data,spec,dbt,raw",
            ],
            check=True,
        )
        stamp.write_text(json.dumps(want))
        log(f"  generated in {time.perf_counter() - t0:.1f} s")
    gen_glueform.write_glueform(case)  # cheap; always re-rendered so it follows gen_glueform.py
    return case


# --------------------------------------------------------------------------------------
# dbt virtualenv
# --------------------------------------------------------------------------------------


def dbt_versions_ok() -> bool:
    py = DBT_VENV / "bin" / "python"
    if not (DBT_VENV / "bin" / "dbt").exists() or not py.exists():
        return False
    code = (
        "import importlib.metadata as m, json; "
        f"print(json.dumps({{k: m.version(k) for k in {list(DBT_PINS)!r}}}))"
    )
    r = subprocess.run([str(py), "-c", code], capture_output=True, text=True)
    try:
        return json.loads(r.stdout) == DBT_PINS
    except ValueError:
        return False


def ensure_dbt_venv() -> Path | None:
    if dbt_versions_ok():
        return DBT_VENV / "bin" / "dbt"
    log(f"installing dbt into {DBT_VENV.relative_to(REPO)} (takes a few minutes) ...")
    try:
        if not (DBT_VENV / "bin" / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(DBT_VENV)], check=True)
        subprocess.run(
            [
                str(DBT_VENV / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "-q",
                *[f"{k}=={v}" for k, v in DBT_PINS.items()],
            ],
            check=True,
        )
    except subprocess.CalledProcessError as e:
        log(f"  dbt install failed ({e}); dbt cases skipped")
        return None
    return DBT_VENV / "bin" / "dbt" if dbt_versions_ok() else None


# --------------------------------------------------------------------------------------
# verification: glueform's tables vs the raw_parquet baseline's
# --------------------------------------------------------------------------------------


def verify(case_dir: Path) -> dict:
    """Compare row count and a column sum of every model between glueform and raw_parquet."""
    import duckdb

    spec = json.loads((case_dir / "spec.json").read_text())
    gf_wh = case_dir / "glueform" / "warehouse"
    raw_wh = case_dir / "raw_parquet" / "warehouse" / spec["name"]
    con = duckdb.connect()
    bad, missing, checked = [], [], 0
    for m in spec["models"]:
        col = "total_v1" if m["layer"] == "mart" else "v1"
        gf_files = sorted(str(p) for p in gf_wh.rglob("*.parquet") if m["name"] in p.parts)
        raw_files = sorted(str(p) for p in (raw_wh / m["name"]).glob("*.parquet"))
        if not gf_files or not raw_files:
            missing.append(m["name"])
            continue
        q = f"select count(*), coalesce(sum({col}), 0) from read_parquet(?)"
        a = con.execute(q, [gf_files]).fetchone()
        b = con.execute(q, [raw_files]).fetchone()
        checked += 1
        if a[0] != b[0] or abs(a[1] - b[1]) > 1e-6 * max(1.0, abs(b[1])):
            bad.append({"model": m["name"], "glueform": list(a), "raw_parquet": list(b)})
    con.close()
    return {
        "checked": checked,
        "mismatched": bad[:20],
        "n_mismatched": len(bad),
        "missing": missing[:20],
        "n_missing": len(missing),
    }


# --------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="glueform benchmark (see bench/README.md)")
    ap.add_argument("--models", type=int, default=1000, help="models in the small project")
    ap.add_argument("--rows", type=int, default=20000, help="source rows in the small project")
    ap.add_argument(
        "--big-models", type=int, default=50, help="models in the big project (0: skip)"
    )
    ap.add_argument("--big-rows", type=int, default=5000000, help="source rows in the big project")
    ap.add_argument("--repeat", type=int, default=3, help="counted runs per case (median reported)")
    ap.add_argument(
        "--dbt-repeat", type=int, default=None, help="counted runs for dbt cases (default --repeat)"
    )
    ap.add_argument(
        "--warmup",
        type=int,
        default=1,
        choices=[0, 1],
        help="untimed warm-up run per case (not for dbt run)",
    )
    ap.add_argument("--skip-dbt", action="store_true", help="no dbt venv, no dbt cases")
    ap.add_argument("--skip-glueform", action="store_true", help="baselines only")
    ap.add_argument(
        "--skip-runs", action="store_true", help="start-up, compile and validate cases only"
    )
    ap.add_argument(
        "--compile-cmd",
        default="compile",
        choices=["compile", "validate"],
        help="which of compile|validate the compile targets judge (both are timed)",
    )
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--anchors", help="path to gen_anchor_projects.py or its folder")
    ap.add_argument("--regen", action="store_true", help="regenerate the cached projects")
    args = ap.parse_args(argv)
    dbt_repeat = args.dbt_repeat or args.repeat

    anchor = find_anchor_script(args.anchors)
    OUT.mkdir(parents=True, exist_ok=True)
    logs = OUT / "logs"
    rm(logs)
    logs.mkdir()

    projects = {"small": (args.models, args.rows)}
    if args.big_models > 0:
        projects["big"] = (args.big_models, args.big_rows)
    cases_dir = {
        k: ensure_case(anchor, n, r, args.seed, args.regen) for k, (n, r) in projects.items()
    }
    label = {k: f"N={n} R={r}" for k, (n, r) in projects.items()}

    glueform_exe = Path(sys.executable).parent / "glueform"
    have_glueform = not args.skip_glueform and glueform_exe.exists()
    if not args.skip_glueform and not have_glueform:
        log(f"glueform executable not found beside {sys.executable}; glueform cases skipped")
    dbt_exe = None if args.skip_dbt else ensure_dbt_venv()
    py = sys.executable
    small = cases_dir["small"]
    nothing = lambda: None  # noqa: E731

    def gf_clean(case_dir: Path) -> Callable[[], None]:
        g = case_dir / "glueform"
        return lambda: rm(g / "warehouse", g / ".glueform", g / "target")

    def dbt_clean(case_dir: Path) -> Callable[[], None]:
        d = case_dir / "dbt"
        return lambda: rm(d / "target", d / "logs", d / "dbt.duckdb", d / "dbt.duckdb.wal")

    cases: list[Case] = []
    R, DR = args.repeat, dbt_repeat
    # start-up
    if have_glueform:
        cases.append(
            Case(
                "glueform --help",
                [str(glueform_exe), "--help"],
                small,
                nothing,
                "startup",
                "-",
                baseline="dbt --help" if dbt_exe else None,
                repeat=R,
            )
        )
    if dbt_exe:
        cases.append(
            Case(
                "dbt --help",
                [str(dbt_exe), "--help"],
                small / "dbt",
                nothing,
                "startup",
                "-",
                repeat=DR,
            )
        )
    # compile and validate (small project); the targets use --compile-cmd
    if have_glueform:
        gdir = small / "glueform"
        base = "dbt parse --no-partial-parse" if dbt_exe else None
        sub_cmds = [args.compile_cmd] + [
            c for c in ("compile", "validate") if c != args.compile_cmd
        ]
        for sub in sub_cmds:
            cmd = [str(glueform_exe), sub, "-p", str(gdir)]
            clean = gf_clean(small)

            def prime(clean=clean, cmd=cmd):
                clean()
                subprocess.run(cmd, cwd=small, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

            edited = _edited_model(gdir)

            def one_changed(prime=prime, model=edited):
                prime()
                _toggle_comment(model)

            states = [("cold", clean), ("warm", prime)]
            if sub == "validate":  # one model edited since the last validate
                states.append(("one changed", one_changed))
            for state, prep in states:
                cases.append(
                    Case(
                        f"glueform {sub} ({state})",
                        cmd,
                        small,
                        prep,
                        "compile",
                        label["small"],
                        baseline=base,
                        repeat=R,
                    )
                )
    if dbt_exe:
        cases.append(
            Case(
                "dbt parse --no-partial-parse",
                [str(dbt_exe), "parse", "--no-partial-parse", "--profiles-dir", "."],
                small / "dbt",
                dbt_clean(small),
                "compile",
                label["small"],
                repeat=DR,
            )
        )
    # runs
    for key, cdir in {} if args.skip_runs else cases_dir.items():
        tag = f" [{key}]"
        raw_name = "raw_parquet.py" + tag
        if have_glueform:
            cases.append(
                Case(
                    "glueform run --threads 2" + tag,
                    [str(glueform_exe), "run", "-p", str(cdir / "glueform"), "--threads", "2"],
                    cdir,
                    gf_clean(cdir),
                    "run",
                    label[key],
                    baseline=raw_name,
                    repeat=R,
                )
            )
        cases.append(
            Case(
                raw_name,
                [py, str(BENCH / "raw_parquet.py"), str(cdir)],
                cdir,
                lambda c=cdir: rm(c / "raw_parquet"),
                "run",
                label[key],
                repeat=R,
            )
        )
        cases.append(
            Case(
                "anchors raw/run.py (DuckDB file)" + tag,
                [py, "run.py"],
                cdir / "raw",
                lambda c=cdir: rm(c / "raw" / "raw.duckdb", c / "raw" / "raw.duckdb.wal"),
                "run",
                label[key],
                baseline=raw_name,
                repeat=R,
            )
        )
        if dbt_exe:
            cases.append(
                Case(
                    "dbt run --threads 2" + tag,
                    [str(dbt_exe), "run", "--threads", "2", "--profiles-dir", "."],
                    cdir / "dbt",
                    dbt_clean(cdir),
                    "run",
                    label[key],
                    baseline=raw_name,
                    warmup=False,
                    repeat=DR,
                )
            )

    # Rounds: every case runs once per round, so slow drift of a shared machine hits all alike.
    rounds = args.warmup + max(c.repeat for c in cases)
    for rnd in range(rounds):
        counted = rnd - args.warmup  # < 0: warm-up round
        for c in cases:
            if c.error:
                continue
            if counted < 0 and not c.warmup:
                continue
            if counted >= c.repeat:
                continue
            lp = logs / (re.sub(r"[^A-Za-z0-9.]+", "_", c.name).strip("_") + ".log")
            try:
                wall, cpu, peak = run_once(c, lp)
            except Exception as e:  # noqa: BLE001
                c.error = str(e)
                log(f"  FAILED {c.name}: {e}")
                continue
            what = "warm-up" if counted < 0 else f"run {counted + 1}/{c.repeat}"
            log(f"  {c.name:<44} {what:<9} {wall:7.2f} s")
            if counted >= 0:
                c.times.append(wall)
                c.cpu.append(cpu)
                c.peak_mib.append(peak)

    # correctness: glueform's output vs raw_parquet's (left by the last runs of each)
    checks = {}
    if have_glueform:
        by = {c.name: c for c in cases}
        for key, cdir in cases_dir.items():
            gr = by.get("glueform run --threads 2" + f" [{key}]")
            if gr and not gr.error and gr.times:
                # runs come after the compile cases in each round and nothing cleans them
                # afterwards, so both the last glueform run's and raw_parquet's outputs exist.
                checks[key] = verify(cdir)

    # ----------------------------------------------------------------------------------
    # report
    by = {c.name: c for c in cases}

    def ratio(c: Case) -> float | None:
        b = by.get(c.baseline) if c.baseline else None
        if b and b.median and c.median:
            return c.median / b.median
        return None

    target_rows = []
    for key, cname, kind, thr in TARGETS:
        cname = cname.format(compile=args.compile_cmd)
        c = by.get(cname)
        if c is None or c.median is None:
            val, ok = None, None
        elif kind == "abs":
            val, ok = c.median, c.median < thr
        else:
            r = ratio(c)
            val, ok = r, (r is not None and r <= thr)
        desc = (
            f"median < {thr} s" if kind == "abs" else f"≤ {thr}× {c.baseline if c else 'baseline'}"
        )
        target_rows.append(
            {
                "target": key,
                "case": cname,
                "kind": kind,
                "rule": desc,
                "threshold": thr,
                "value": val,
                "pass": ok,
            }
        )

    hdr = f"{'case':<40} {'project':<17} {'median s':>9} {'min–max s':>13} {'cpu s':>6} {'MiB':>5}  {'ratio':>6}  vs"
    print()
    print(hdr)
    print("-" * len(hdr))
    for c in cases:
        if c.error:
            print(f"{c.name:<40} {c.project:<17} {'FAILED':>9}")
            continue
        r = ratio(c)
        mm = f"{min(c.times):.2f}–{max(c.times):.2f}"
        print(
            f"{c.name:<40} {c.project:<17} {c.median:9.2f} {mm:>13} "
            f"{statistics.median(c.cpu):6.2f} {statistics.median(c.peak_mib):5.0f}  "
            f"{(f'{r:.2f}×' if r else '-'):>6}  {c.baseline if r else ''}"
        )
    print()
    print(f"{'target':<14} {'case':<34} {'rule':<38} {'value':>8}  result")
    for t in target_rows:
        v = t["value"]
        vs = "-" if v is None else (f"{v:.2f} s" if t["kind"] == "abs" else f"{v:.2f}×")
        res = "n/a" if t["pass"] is None else ("PASS" if t["pass"] else "FAIL")
        print(f"{t['target']:<14} {t['case']:<34} {t['rule']:<38} {vs:>8}  {res}")
    for key, chk in checks.items():
        status = "OK" if not chk["n_mismatched"] and not chk["n_missing"] else "MISMATCH"
        print(
            f"check [{key}]: glueform vs raw_parquet, {chk['checked']} models compared "
            f"(row count + column sum): {status}"
            + (
                f"; {chk['n_mismatched']} differ, {chk['n_missing']} missing"
                if status != "OK"
                else ""
            )
        )

    import duckdb

    results = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "duckdb": duckdb.__version__,
        },
        "args": vars(args),
        "projects": {
            k: {"models": n, "rows": r, "folder": str(cases_dir[k].relative_to(BENCH))}
            for k, (n, r) in projects.items()
        },
        "cases": [
            {
                "name": c.name,
                "group": c.group,
                "project": c.project,
                "cmd": [Path(x).name if os.sep in x else x for x in c.cmd],
                "times_s": c.times,
                "median_s": c.median,
                "min_s": min(c.times) if c.times else None,
                "max_s": max(c.times) if c.times else None,
                "cpu_s": c.cpu,
                "peak_mib": c.peak_mib,
                "baseline": c.baseline,
                "ratio": ratio(c),
                "error": c.error,
            }
            for c in cases
        ],
        "targets": target_rows,
        "checks": checks,
    }
    (OUT / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nresults: {(OUT / 'results.json').relative_to(REPO)}; logs: {logs.relative_to(REPO)}/")
    failed = any(c.error for c in cases)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
