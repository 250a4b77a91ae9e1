"""A project copied (``cp -a``) or moved (``mv``) keeps its tables, and never deletes another
project's: locations inside the warehouse are stored relative to it, and retention removes only
folders inside its own warehouse that no catalog record points into."""

from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import basic_files, glueform, glueform_json, query, write_project
from sqlalchemy import create_engine, select

from glueform import Workspace
from glueform.catalog import schema as catalog_schema
from glueform.catalog.store import CatalogStore

KEEP_ONE = "    threads: 2\n    keep_versions: 1\n"


def shop(root: Path) -> Path:
    files = basic_files()
    files["glueform.yml"] = files["glueform.yml"].replace("    threads: 2\n", KEEP_ONE)
    return write_project(root, files)


def totals(root: Path) -> list[tuple[object, ...]]:
    """customer_totals as its catalog says, read from the files its current version names."""
    with Workspace(root).catalog() as catalog:
        table = catalog.table("shop", "customer_totals")
    assert table is not None and table.location is not None
    return sorted(query(f"select * from read_parquet('{table.location}/*.parquet')"))


def stored_locations(root: Path) -> list[str]:
    """The locations as the catalog file holds them (not as a store resolves them)."""
    engine = create_engine(f"sqlite:///{root / '.glueform' / 'catalog.db'}")
    v = catalog_schema.table_versions
    with engine.connect() as conn:
        rows = conn.execute(select(v.c.definition)).scalars().all()
    engine.dispose()
    return [d["location"] for d in rows if d["table_type"] == "MANAGED_TABLE"]


def test_locations_in_the_warehouse_are_stored_relative(tmp_path: Path) -> None:
    root = shop(tmp_path / "orig")
    assert glueform_json("run", "-p", str(root))["ok"]
    stored = stored_locations(root)
    assert stored and all(not loc.startswith("/") for loc in stored)
    shown = glueform_json("catalog", "show", "shop.customer_totals", "-p", str(root))
    assert shown["location"].startswith(str((root / "warehouse").resolve()))


def test_a_copy_never_deletes_the_originals_data(tmp_path: Path) -> None:
    orig = shop(tmp_path / "orig")
    assert glueform_json("run", "-p", str(orig))["ok"]
    expected = totals(orig)
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-a", str(orig), str(copy)], check=True)
    for _ in range(2):
        assert glueform_json("run", "-p", str(copy))["ok"]
    assert totals(orig) == expected == totals(copy)
    assert len(list((copy / "warehouse/shop/customer_totals").iterdir())) == 1  # kept one


def test_a_copy_of_an_older_catalog_never_deletes_the_originals_data(tmp_path: Path) -> None:
    """A catalog written before locations were relative names the original's folders."""
    orig = shop(tmp_path / "orig")
    assert glueform_json("run", "-p", str(orig))["ok"]
    with Workspace(orig).catalog() as catalog:  # as an older catalog: absolute locations
        table = catalog.table("shop", "customer_totals")
        assert table is not None
    absolute = CatalogStore(f"sqlite:///{orig / '.glueform' / 'catalog.db'}")
    absolute.put_table(table, table.version)
    absolute.close()
    assert any(loc.startswith("/") for loc in stored_locations(orig))
    before = sorted(p.name for p in (orig / "warehouse/shop/customer_totals").iterdir())
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-a", str(orig), str(copy)], check=True)
    for _ in range(2):
        assert glueform_json("run", "-p", str(copy))["ok"]
    assert sorted(p.name for p in (orig / "warehouse/shop/customer_totals").iterdir()) == before
    assert totals(orig) == totals(copy)


def test_a_moved_project_reads_every_table(tmp_path: Path) -> None:
    orig = shop(tmp_path / "orig")
    assert glueform_json("run", "-p", str(orig))["ok"]
    expected = totals(orig)
    moved = tmp_path / "elsewhere" / "moved"
    moved.parent.mkdir()
    subprocess.run(["mv", str(orig), str(moved)], check=True)
    assert totals(moved) == expected
    history = glueform_json("catalog", "history", "shop.customer_totals", "-p", str(moved))
    assert all(Path(v["location"]).is_dir() for v in history)
    plan = glueform("plan", "-p", str(moved))  # the sources' files moved with the project
    assert plan.exit_code == 0 and "raw.orders" in plan.stdout and "location changed" in plan.stdout
    assert glueform_json("run", "-p", str(moved))["ok"]
    assert totals(moved) == expected


def test_an_older_catalog_is_migrated_to_relative_locations(tmp_path: Path) -> None:
    orig = shop(tmp_path / "orig")
    assert glueform_json("run", "-p", str(orig))["ok"]
    path = orig / ".glueform" / "catalog.db"
    warehouse = (orig / "warehouse").resolve()
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:  # back to schema 5, with absolute locations as it wrote them
        for table in (catalog_schema.tables, catalog_schema.table_versions):
            for row in conn.execute(select(table)).mappings().all():
                d = row["definition"]
                if d.get("location") and not d["location"].startswith("/"):
                    keys = [c == row[c.name] for c in table.primary_key.columns]
                    d = {**d, "location": str(warehouse / d["location"])}
                    conn.execute(table.update().where(*keys).values(definition=d))
        m = catalog_schema.meta
        conn.execute(m.update().where(m.c.key == "schema_version").values(value="5"))
    engine.dispose()
    assert all(loc.startswith("/") for loc in stored_locations(orig))
    expected = totals(orig)  # opening it migrates
    assert stored_locations(orig) and all(not loc.startswith("/") for loc in stored_locations(orig))
    moved = tmp_path / "moved"
    subprocess.run(["mv", str(orig), str(moved)], check=True)
    assert totals(moved) == expected
