#!/usr/bin/env python3
"""Time `glueform docs generate` on a generated 1,000-model project, and the site in Chromium.

Baselines measured in the same run, on the same project: `glueform compile` (cold: no compile
cache), and `dbt docs generate` on the dbt rendering of the same spec when `--dbt` is given
(the dbt virtualenv of bench/run.py is created on first use). Every case is a whole process;
the median of `--repeat` runs is printed. Then Chromium (Debian's package, through Playwright)
opens the 1,000-model site from file:// and the time to render the index, the whole lineage
graph, a search and a table page is printed.

Usage: python bench/docs_bench.py [--models 1000] [--repeat 3] [--run] [--dbt] [--no-browser]
  --run   build the project first, so the docs also read a catalog of 1,000 tables and a run
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import run as bench_run  # noqa: E402  (project generation and the dbt virtualenv)

TARGET_SECONDS = 10.0
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def timed(cmd: list[str], cwd: Path, clean: list[Path], repeat: int) -> list[float]:
    """Wall seconds of ``repeat`` runs of ``cmd``, each after removing ``clean``."""
    times = []
    for _ in range(repeat):
        for path in clean:
            shutil.rmtree(path, ignore_errors=True)
        start = time.perf_counter()
        done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return times


def browser_times(index: Path) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    out: dict[str, float] = {}
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))

        def measure(name: str, action: object, selector: str) -> None:
            start = time.perf_counter()
            action()  # type: ignore[operator]
            page.wait_for_selector(selector)
            out[name] = time.perf_counter() - start

        url = index.as_uri()
        measure("index (load data.js, render)", lambda: page.goto(url), "main h1")
        measure("lineage graph, all tables", lambda: page.goto(url + "#/lineage"), "#graph svg")
        out["  nodes drawn"] = page.locator("#graph .node").count()
        measure(
            "search 'entity_id' (first: builds the index)",
            lambda: page.fill("#search", "entity_id"),
            "#search-results a",
        )
        last = page.evaluate("GLUEFORM_DOCS.tables[GLUEFORM_DOCS.tables.length - 1].id")
        measure("a table page", lambda: page.goto(f"{url}#/table/{last}"), "#table-graph svg")
        browser.close()
    if errors:
        raise SystemExit(f"console errors: {errors[:5]}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=int, default=1000)
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--run", action="store_true", help="build the project first (a full catalog)")
    ap.add_argument("--dbt", action="store_true", help="also time `dbt docs generate`")
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--anchors", help="path to gen_anchor_projects.py or its folder")
    args = ap.parse_args(argv)

    case = bench_run.ensure_case(
        bench_run.find_anchor_script(args.anchors), args.models, args.rows, args.seed, False
    )
    project = case / "glueform"
    exe = str(Path(sys.executable).with_name("glueform"))
    target = project / "target"
    if args.run:
        for path in (project / "warehouse", project / ".glueform"):
            shutil.rmtree(path, ignore_errors=True)
        print(f"building {args.models} models first ...", file=sys.stderr)
        subprocess.run([exe, "run", "-p", str(project)], check=True, capture_output=True)

    results: dict[str, list[float]] = {}
    results["glueform compile (cold)"] = timed([exe, "compile"], project, [target], args.repeat)
    results["glueform docs generate (cold)"] = timed(
        [exe, "docs", "generate"], project, [target], args.repeat
    )
    results["glueform docs generate (warm compile cache)"] = timed(
        [exe, "docs", "generate"], project, [target / "docs"], args.repeat
    )
    if args.dbt:
        dbt = bench_run.ensure_dbt_venv()
        if dbt is None:
            print("dbt is not available: its case is skipped", file=sys.stderr)
        else:
            dbt_dir = case / "dbt"
            results["dbt docs generate"] = timed(
                [str(dbt), "docs", "generate", "--profiles-dir", "."],
                dbt_dir,
                [dbt_dir / "target", dbt_dir / "logs"],
                args.repeat,
            )

    print(f"\n{args.models} models ({project}), median of {args.repeat} runs")
    medians = {name: statistics.median(times) for name, times in results.items()}
    for name, median in medians.items():
        spread = f"{min(results[name]):.2f}-{max(results[name]):.2f}"
        print(f"  {name:<46} {median:6.2f} s  ({spread})")
    docs = medians["glueform docs generate (cold)"]
    print(
        f"  ratio docs generate / compile (cold): {docs / medians['glueform compile (cold)']:.2f}"
    )
    if "dbt docs generate" in medians:
        print(
            f"  ratio docs generate / dbt docs generate: {docs / medians['dbt docs generate']:.2f}"
        )
    size = (target / "docs" / "data.js").stat().st_size
    print(f"  data.js: {size / 2**20:.1f} MiB")
    verdict = "PASS" if docs < TARGET_SECONDS else "FAIL"
    print(f"  target: docs generate < {TARGET_SECONDS:.0f} s: {verdict}")

    if not args.no_browser:
        print("\nChromium, the site from file://")
        for name, value in browser_times(target / "docs" / "index.html").items():
            print(
                f"  {name:<46} " + (f"{value:6.2f} s" if isinstance(value, float) else str(value))
            )
    return 0 if docs < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
