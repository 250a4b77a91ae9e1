"""The docs site: the document it renders, the files it writes, and the site in a real browser.

Browser tests drive Debian's Chromium with Playwright (never `playwright install`): one browser
for the module, pages opened from file:// (as a team opens a downloaded CI artifact) and over
`glueform docs serve`'s HTTP server.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ORDERS_CSV, glueform, glueform_json

from glueform import Workspace
from glueform.docs import build
from glueform.docs.site import make_server

EXAMPLE = Path(__file__).resolve().parents[1] / "example_project"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def read_document(site: Path) -> dict[str, Any]:
    text = (site / "data.js").read_text(encoding="utf-8")
    prefix = "window.GLUEFORM_DOCS = "
    assert text.startswith(prefix) and text.rstrip().endswith(";")
    return json.loads(text[len(prefix) :].rstrip().rstrip(";"))


def tables_by_id(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["id"]: t for t in doc["tables"]}


# -- the document and the files (fast) ------------------------------------------------------------


def test_generate_before_any_run_documents_the_project_and_creates_no_catalog(
    project: Path,
) -> None:
    result = glueform("docs", "generate", "-p", str(project))
    assert result.exit_code == 0, result.output
    site = project / "target" / "docs"
    assert sorted(p.name for p in site.iterdir()) == [
        "data.js",
        "docs.css",
        "docs.js",
        "index.html",
    ]
    assert not (project / ".glueform" / "catalog.db").exists()
    doc = read_document(site)
    tables = tables_by_id(doc)
    assert set(tables) == {
        "raw.orders",
        "raw.customers",
        "shop.stg_orders",
        "shop.stg_customers",
        "shop.customer_totals",
    }
    totals = tables["shop.customer_totals"]
    assert totals["kind"] == "model" and totals["materialized"] == "table"
    assert (
        totals["tags"] == ["nightly"] and totals["file"] == "transforms/marts/customer_totals.sql"
    )
    assert sorted(totals["upstream"]) == ["shop.stg_customers", "shop.stg_orders"]
    assert tables["shop.stg_orders"]["downstream"] == ["shop.customer_totals"]
    assert tables["raw.orders"]["downstream"] == ["shop.stg_orders"]
    columns = {c["name"]: c for c in totals["columns"]}
    assert columns["total"]["upstream"] == [["shop.stg_orders", "amount"]]
    assert columns["total"]["origins"] == [["raw.orders", "amount"]]
    # the reverse edge is on the upstream table's column
    amount = {c["name"]: c for c in tables["shop.stg_orders"]["columns"]}["amount"]
    assert amount["downstream"] == [["shop.customer_totals", "total"]]
    sql = totals["transform"]["sql"]
    assert set(sql) == {"duckdb", "spark"}
    assert '"shop"."stg_orders"' in sql["duckdb"] and "`shop`.`stg_orders`" in sql["spark"]
    assert "{{ ref('stg_orders') }}" in totals["transform"]["raw_sql"]
    assert totals["in_catalog"] is False and doc["runs"] == [] and doc["sections"] == []


def test_generate_after_a_run_shows_runs_versions_stats_and_partitions(
    project: Path, tmp_path: Path
) -> None:
    (project / "transforms/marts/customer_totals.sql").write_text(
        "{{ config(materialized='table', partition_by=['name']) }}\n"
        "select c.name, sum(o.amount) as total\n"
        "from {{ ref('stg_orders') }} o join {{ ref('stg_customers') }} c using (customer_id)\n"
        "group by c.name\n"
    )
    assert glueform_json("run", "-p", str(project))["ok"]
    out = tmp_path / "site"
    payload = glueform_json("docs", "generate", "-p", str(project), "--out", str(out))
    assert payload == {"index": str(out / "index.html")}
    doc = read_document(out)
    [run] = doc["runs"]
    assert run["status"] == "success" and run["command"] == "run" and run["seconds"] >= 0
    assert run["counts"] == {"success": 3, "error": 0, "skipped": 0}
    tables = tables_by_id(doc)
    assert tables["raw.orders"]["stats"]["bytes"] == len(ORDERS_CSV)
    assert tables["shop.stg_orders"]["stats"]["bytes"] is None  # a view has no files
    totals = tables["shop.customer_totals"]
    assert totals["stats"]["bytes"] > 0
    assert totals["in_catalog"] and totals["version"] == 1 and totals["format"] == "parquet"
    assert totals["stats"]["rows"] == 3 and totals["stats"]["up_to_date"] is True
    assert [v["version"] for v in totals["versions"]] == [1]
    assert totals["partitions"]["count"] == 3
    assert sorted(p["values"][0] for p in totals["partitions"]["items"]) == [
        "ada",
        "grace",
        "linus",
    ]
    assert totals["partition_keys"][0]["name"] == "name"
    assert [r["status"] for r in totals["runs"]] == ["success"]
    assert {c["name"]: c["type"] for c in totals["columns"]}["total"]  # the catalog's type


def test_sections_appear_only_when_the_project_has_such_objects(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crawlers(project: Any, graph: Any, catalog: Any) -> dict[str, Any]:
        items = [{"name": "raw_files", "description": "crawls data/", "tables": ["raw.orders"]}]
        return {"id": "crawlers", "title": "Crawlers", "items": items}

    def jobs(project: Any, graph: Any, catalog: Any) -> dict[str, Any]:
        return {"id": "jobs", "title": "Jobs", "items": []}

    monkeypatch.setattr(build, "SECTIONS", (crawlers, jobs))
    ws = Workspace(project)
    index = ws.docs()
    doc = read_document(index.parent)
    assert [s["id"] for s in doc["sections"]] == ["crawlers"]


def test_serve_without_a_site_is_a_user_error(project: Path) -> None:
    result = glueform("docs", "serve", "-p", str(project), "--port", "0")
    assert result.exit_code == 2
    assert "no docs site" in result.output and "glueform docs generate" in result.output


def test_docs_serve_prints_its_url_and_serves_the_site(project: Path) -> None:
    assert glueform("docs", "generate", "-p", str(project)).exit_code == 0
    exe = Path(sys.executable).with_name("glueform")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    cmd = [str(exe), "docs", "serve", "-p", str(project), "--port", "0"]
    server = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        url = line[line.index("http://") :].strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/")
        with urllib.request.urlopen(url + "data.js", timeout=10) as response:
            assert response.read().startswith(b"window.GLUEFORM_DOCS = ")
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=10) == 0


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<title>x</title>")
    server = make_server(site, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_make_server_serves_the_folder_on_localhost(served: str) -> None:
    with urllib.request.urlopen(served + "index.html", timeout=5) as response:
        assert response.status == 200 and b"<title>x</title>" in response.read()


# -- the site in Chromium (slow) ------------------------------------------------------------------


@pytest.fixture(scope="module")
def shop_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example project, run once (so runs, versions and partitions exist), and its site."""
    root = tmp_path_factory.mktemp("docs") / "shop"
    shutil.copytree(
        EXAMPLE, root, ignore=shutil.ignore_patterns("warehouse", ".glueform", "target")
    )
    assert Workspace(root).run().ok
    return Workspace(root).docs().parent


def test_the_example_projects_crawlers_and_jobs_have_pages(shop_site: Path) -> None:
    sections = {s["id"]: s for s in read_document(shop_site)["sections"]}
    assert list(sections) == ["crawlers", "jobs"]
    (landing,) = sections["crawlers"]["items"]
    assert landing["properties"]["database"] == "landing"
    assert landing["triggers"] == [{"type": "schedule", "schedule": "0 6 * * *"}]
    jobs = {j["name"]: j for j in sections["jobs"]["items"]}
    assert set(jobs) == {"nightly", "marketing", "crawler:landing"}
    nightly = jobs["nightly"]
    assert nightly["properties"]["crawlers"] == "landing"
    assert "marts.fct_orders" in nightly["tables"] and "marts.funnel_daily" not in nightly["tables"]
    assert nightly["triggers"] == [
        {
            "name": "nightly_2am",
            "type": "schedule",
            "schedule": "cron(0 2 * * ? *) (Europe/Berlin)",
            "workflow": "shop_nightly",
        }
    ]
    marketing = jobs["marketing"]["triggers"]
    assert {"name": "after_nightly", "type": "conditional", "workflow": "shop_nightly",
            "conditions": "job nightly SUCCEEDED"} in marketing  # fmt: skip


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Page:
    """A browser page that records console errors and uncaught exceptions."""

    def __init__(self, browser: Any) -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 900})
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else 0)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))


@pytest.fixture
def page(browser: Any) -> Iterator[Page]:
    p = Page(browser)
    yield p
    p.page.close()
    assert p.errors == []


@pytest.mark.slow
def test_index_loads_without_console_errors(shop_site: Path, page: Page, tmp_path: Path) -> None:
    page.page.goto((shop_site / "index.html").as_uri())
    page.page.wait_for_selector("main h1")
    assert page.page.inner_text("main h1") == "shop"
    assert "models" in page.page.inner_text(".cards")
    shot = tmp_path / "index.png"
    page.page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    assert page.errors == []


@pytest.mark.slow
def test_lineage_graph_renders_every_table_and_filters_by_selector(
    shop_site: Path, page: Page
) -> None:
    doc = read_document(shop_site)
    page.page.goto((shop_site / "index.html").as_uri() + "#/lineage")
    page.page.wait_for_selector("#graph svg .node")
    assert page.page.locator("#graph .node").count() == len(doc["tables"]) == 23
    assert page.page.locator("#graph .edge").count() > 20
    page.page.fill("#selector", "+fct_orders")
    page.page.click("#apply-selector")
    page.page.wait_for_function("location.hash === '#/lineage/%2Bfct_orders'")
    shown = set(page.page.locator("#graph .node").evaluate_all("ns => ns.map(n => n.dataset.id)"))
    assert "marts.fct_orders" in shown and "raw.payments" in shown
    assert "analytics.stg_orders" in shown and "marts.dim_customers" not in shown
    page.page.fill("#selector", "tag:nightly,tag:finance")
    page.page.press("#selector", "Enter")
    page.page.wait_for_function("document.querySelectorAll('#graph .node').length === 3")
    page.page.fill("#selector", "nope+")
    page.page.press("#selector", "Enter")
    page.page.wait_for_selector("#selector-error:has-text('matches no table')")
    # a click on a node opens that table's page
    page.page.goto((shop_site / "index.html").as_uri() + "#/lineage")
    page.page.click("#graph .node[data-id='marts.daily_revenue']")
    page.page.wait_for_selector("main h1:has-text('marts.daily_revenue')")


@pytest.mark.slow
def test_search_finds_a_column_and_opens_its_table(shop_site: Path, page: Page) -> None:
    page.page.goto((shop_site / "index.html").as_uri())
    page.page.fill("#search", "lifetime_value")
    first = page.page.locator("#search-results a").first
    assert first.inner_text().split()[:2] == ["column", "marts.dim_customers.lifetime_value"]
    page.page.fill("#search", "normalised email")  # words of a column's description
    page.page.wait_for_selector("#search-results a:has-text('marts.dim_customers.email')")
    page.page.fill("#search", "lifetime_value")
    page.page.press("#search", "Enter")
    page.page.wait_for_selector("main h1:has-text('marts.dim_customers')")
    assert page.page.locator("tr.hl td").first.inner_text() == "lifetime_value"


@pytest.mark.slow
def test_following_an_upstream_column_link_opens_that_table(shop_site: Path, page: Page) -> None:
    page.page.goto((shop_site / "index.html").as_uri() + "#/table/marts.fct_orders")
    row = page.page.locator("tr[data-col='order_amount']")
    assert row.locator("td.origins a").all_inner_texts() == [
        "raw.order_items.quantity",
        "raw.products.price_cents",
    ]
    row.locator("td.upstream a", has_text="analytics.int_order_totals.order_amount_cents").click()
    page.page.wait_for_selector("main h1:has-text('analytics.int_order_totals')")
    highlighted = page.page.locator("tr.hl")
    assert highlighted.get_attribute("data-col") == "order_amount_cents"
    assert "marts.fct_orders.order_amount" in highlighted.locator("td.downstream").inner_text()
    page.page.go_back()
    page.page.wait_for_selector("main h1:has-text('marts.fct_orders')")


@pytest.mark.slow
def test_table_page_shows_catalog_facts_and_sql_per_dialect(shop_site: Path, page: Page) -> None:
    page.page.goto((shop_site / "index.html").as_uri() + "#/table/marts.fct_orders")
    text = page.page.inner_text("main")
    for fact in ("MANAGED_TABLE", "parquet", "3,000", "Partition keys", "order_month=2024-01-01"):
        assert fact in text
    assert "Versions" in text and "Recent builds" in text
    page.page.click(".tabs button:has-text('compiled · spark')")
    spark = page.page.inner_text("pre[data-pane]:visible")
    assert "`analytics`.`stg_orders`" in spark
    page.page.click("a[href^='#/run/']")
    page.page.wait_for_selector("main h1:has-text('run ')")
    assert "fct_orders" in page.page.inner_text("main")


@pytest.mark.slow
def test_served_site_loads_without_console_errors(shop_site: Path, page: Page) -> None:
    server = make_server(shop_site, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        page.page.goto(f"http://127.0.0.1:{server.server_address[1]}/#/table/raw.orders")
        page.page.wait_for_selector("main h1:has-text('raw.orders')")
        assert "data/raw/orders.csv" in page.page.inner_text("main")
    finally:
        server.shutdown()
        server.server_close()


def test_secrets_read_with_env_var_are_not_published(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOP_API_TOKEN", "s3cr3t-value-42")
    (project / "transforms/marts/with_token.sql").write_text(
        "select '{{ env_var('SHOP_API_TOKEN') }}' as token from {{ ref('stg_orders') }}\n"
    )
    index = Workspace(project).docs()
    text = (index.parent / "data.js").read_text(encoding="utf-8")
    assert "s3cr3t-value-42" not in text
    sql = tables_by_id(read_document(index.parent))["shop.with_token"]["transform"]["sql"]
    assert "'<secret: env SHOP_API_TOKEN>' AS token" in sql["spark"]
    assert "<secret: env SHOP_API_TOKEN>" in sql["duckdb"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "selector",
    [
        "+fct_orders",
        "stg_orders+",
        "tag:nightly,tag:finance",
        "path:marts",
        "path:transforms/staging",
        "stg_*",
        "2+dim_customers",
        "int_order_lines+1 tag:staging",
    ],
)
def test_graph_selectors_pick_the_models_the_cli_picks(
    shop_site: Path, page: Page, selector: str
) -> None:
    """The page's selector code is JavaScript: it must agree with dag.Graph.select."""
    graph = Workspace(shop_site.parents[1]).graph
    expected = {f"{graph.nodes[n].database}.{n}" for n in graph.select([selector])}
    url = (shop_site / "index.html").as_uri() + "#/lineage/" + urllib.parse.quote(selector, "")
    page.page.goto(url)
    page.page.wait_for_selector("#graph svg")
    shown = page.page.locator("#graph .node").evaluate_all("ns => ns.map(n => n.dataset.id)")
    doc_kinds = {t["id"]: t["kind"] for t in read_document(shop_site)["tables"]}
    assert {i for i in shown if doc_kinds[i] == "model"} == expected


@pytest.mark.slow
def test_a_column_trace_draws_its_lineage_down_to_sources_and_up_to_marts(
    shop_site: Path, page: Page
) -> None:
    page.page.goto((shop_site / "index.html").as_uri() + "#/table/marts.fct_orders")
    page.page.click("tr[data-col='order_amount'] td:first-child a")
    page.page.wait_for_selector("#column-graph svg .node")
    traced = page.page.locator("#column-graph .node").evaluate_all(
        "ns => ns.map(n => n.dataset.id)"
    )
    assert set(traced) == {
        "marts.fct_orders|order_amount",
        "analytics.int_order_totals|order_amount_cents",
        "analytics.int_order_lines|line_amount_cents",
        "analytics.stg_order_items|quantity",
        "analytics.stg_products|price_cents",
        "raw.order_items|quantity",
        "raw.products|price_cents",
        "marts.daily_revenue|gross_amount",
    }
    page.page.click("#column-graph .node[data-id='raw.products|price_cents']")
    page.page.wait_for_selector("main h1:has-text('raw.products')")
    assert page.page.locator("tr.hl").get_attribute("data-col") == "price_cents"


@pytest.mark.slow
def test_a_section_renders_its_items_with_links_and_triggers(
    project: Path, page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    def jobs(project: Any, graph: Any, catalog: Any) -> dict[str, Any]:
        item = {
            "name": "nightly",
            "description": "Builds the marts every night.",
            "properties": {"select": "tag:nightly"},
            "tables": ["shop.customer_totals"],
            "triggers": [{"type": "schedule", "schedule": "cron(0 3 * * ? *)"}],
        }
        return {"id": "jobs", "title": "Jobs", "items": [item]}

    monkeypatch.setattr(build, "SECTIONS", (jobs,))
    index = Workspace(project).docs()
    page.page.goto(index.as_uri())
    page.page.click("nav a:has-text('Jobs')")
    page.page.wait_for_selector("main h2:has-text('nightly')")
    text = page.page.inner_text("main")
    assert "Builds the marts every night." in text and "cron(0 3 * * ? *)" in text
    page.page.fill("#search", "nightly")
    page.page.click("#search-results a[data-kind='job']")
    page.page.wait_for_selector("main h1:has-text('Jobs · nightly')")
    page.page.click("main a:has-text('shop.customer_totals')")
    page.page.wait_for_selector("main h1:has-text('shop.customer_totals')")


def test_a_model_reading_a_crawled_table_is_documented(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    shutil.copytree(
        EXAMPLE, root, ignore=shutil.ignore_patterns("warehouse", ".glueform", "target")
    )
    (root / "transforms/marts/refunds_daily.sql").write_text(
        "select dt, count(*) as refunds from {{ source('landing', 'refunds') }} group by dt\n"
    )
    assert glueform("crawl", "-p", str(root)).exit_code == 0
    result = glueform("docs", "generate", "-p", str(root))
    assert result.exit_code == 0, result.output
    tables = {t["id"]: t for t in read_document(root / "target/docs")["tables"]}
    assert tables["marts.refunds_daily"]["upstream"] == ["landing.refunds"]
