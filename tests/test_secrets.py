"""Secrets never leak: values read with env_var() and credentials are seeded through every path
that once printed or stored them, and every output and every file glueform wrote is searched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import basic_files, write_project

from glueform import Workspace
from glueform.cli.main import cli
from glueform.secrets import Secrets, mask_url, url_password

SECRETS = {
    "SHOP_DB_PASS": "pg-secret-7731",  # read by a model that fails
    "SHOP_VIEW_TOKEN": "view-secret-2204",  # read by a view
    "AWS_SECRET_ACCESS_KEY": "aws-secret-8842",  # a credential the engines read
}
LINEAGE_PASSWORD = "lin@secret-6612"
WRITTEN_BY_THE_USER = {"glueform.yml", "sources", "transforms", "jobs", "data"}


def leaky_project(tmp_path: Path) -> Path:
    files = basic_files()
    files["transforms/marts/leaky.sql"] = (
        "select cast('{{ env_var(\"SHOP_DB_PASS\") }}' as integer) as x\n"
    )
    files["transforms/staging/tokened.sql"] = (
        "select '{{ env_var(\"SHOP_VIEW_TOKEN\") }}' as token, order_id\n"
        "from {{ ref('stg_orders') }}\n"
    )
    files["jobs/nightly.yml"] = "jobs:\n  - name: nightly\n    select: ['*']\n"
    return write_project(tmp_path / "shop", files)


def cli_run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.stdout + result.stderr


def leaked(text: str | bytes, values: list[str]) -> list[str]:
    data = text.encode() if isinstance(text, str) else text
    return [v for v in values if v.encode() in data]


def files_written(root: Path) -> list[Path]:
    """Every file under the project that glueform wrote (state, warehouse, target, docs, logs)."""
    return [
        p
        for p in root.rglob("*")
        if p.is_file() and p.relative_to(root).parts[0] not in WRITTEN_BY_THE_USER
    ]


def test_no_secret_reaches_any_output_or_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    values = [*SECRETS.values(), LINEAGE_PASSWORD]
    root = leaky_project(tmp_path)
    p = str(root)
    outputs = [cli_run("validate", "-p", p), cli_run("compile", "-p", p)]
    outputs += [cli_run("run", "-p", p), cli_run("run", "-p", p, "--json")]
    assert "leaky" in outputs[-1] and "<secret: env SHOP_DB_PASS>" in outputs[-1]
    lineage_file = root / "lineage" / "events.jsonl"
    outputs.append(cli_run("jobs", "run", "nightly", "-p", p, "--lineage", str(lineage_file)))
    url = f"http://lineage:{LINEAGE_PASSWORD.replace('@', '%40')}@127.0.0.1:1/api"
    outputs.append(cli_run("jobs", "run", "nightly", "-p", p, "--lineage", url))
    runs = json.loads(cli_run("runs", "-p", p, "--json"))
    assert runs and all(r["status"] == "FAILED" for r in runs)
    assert any("<secret: env SHOP_DB_PASS>" in (r["error"] or "") for r in runs)
    for r in runs:
        outputs += [cli_run("logs", r["id"], "-p", p), cli_run("logs", r["id"], "-p", p, "--json")]
    outputs += [
        cli_run("docs", "generate", "-p", p),
        cli_run("catalog", "show", "shop.tokened", "-p", p),
    ]
    logs = "".join(f.read_text() for f in (root / ".glueform/logs").glob("*.jsonl"))
    assert "lineage event not sent to http://lineage:***@127.0.0.1:1/api" in logs
    assert not [o for o in outputs if leaked(o, values)], [o for o in outputs if leaked(o, values)]
    written = files_written(root)
    names = {f.name for f in written}
    assert {"catalog.db", "compile.pickle", "data.js", "leaky.sql", "events.jsonl"} <= names
    assert not [str(f) for f in written if leaked(f.read_bytes(), values)]
    with Workspace(root).catalog() as catalog:
        view = catalog.table("shop", "tokened")
    assert view is not None and "<secret: env SHOP_VIEW_TOKEN>" in (view.view_sql or "")


def test_the_cache_keeps_no_secret_and_reads_it_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_postgres: str
) -> None:
    monkeypatch.setenv("SHOP_VIEW_TOKEN", "view-secret-2204")
    root = leaky_project(tmp_path)
    (root / "transforms/marts/leaky.sql").unlink()
    catalog = fresh_postgres.replace("postgres@", "postgres:cat@secret-3301@", 1)
    config = (
        (root / "glueform.yml")
        .read_text()
        .replace(
            "    threads: 2\n",
            f"    threads: 2\n    catalog: {catalog}\n"
            "  spark:\n    engine: spark\n    spark: {conf: {spark.hadoop.fs.s3a.secret.key: s3-secret-4410}}\n",
        )
    )
    (root / "glueform.yml").write_text(config)
    output = cli_run("run", "-p", str(root))  # trust auth: the password is sent, not checked
    assert "0 failed" in output, output
    pickle = (root / "target/cache/compile.pickle").read_bytes()
    assert leaked(pickle, ["view-secret-2204", "cat@secret-3301", "s3-secret-4410"]) == []
    again = Workspace(root)  # the snapshot is reused: targets and values come back whole
    assert again.graph.nodes["tokened"].sql.startswith("select 'view-secret-2204' as token")
    assert again.target.catalog == catalog
    monkeypatch.setenv("SHOP_VIEW_TOKEN", "another-value-99")
    assert "another-value-99" in Workspace(root).graph.nodes["tokened"].sql


def test_validate_does_not_print_an_env_value_used_in_a_ref(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOP_MODEL", "ref-secret-5519")
    files = basic_files()
    files["transforms/marts/r.sql"] = "select * from {{ ref(env_var('SHOP_MODEL')) }}\n"
    root = write_project(tmp_path / "p", files)
    output = cli_run("validate", "-p", str(root))
    assert "names a missing model" in output and "<secret: env SHOP_MODEL>" in output
    assert "ref-secret-5519" not in output


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://me:p@ss-secret-1@127.0.0.1:notaport/db",  # a port that is no number
        "postgresql://me:p@ss-secret-1@127.0.0.1:1/db",  # nobody listens
    ],
)
def test_a_catalog_url_is_never_printed_with_its_password(tmp_path: Path, url: str) -> None:
    files = basic_files()
    files["glueform.yml"] = files["glueform.yml"].replace(
        "    threads: 2\n", f"    threads: 2\n    catalog: {url}\n"
    )
    root = write_project(tmp_path / "p", files)
    output = cli_run("plan", "-p", str(root))
    assert "cannot" in output and "me:***@127.0.0.1" in output
    assert "ss-secret-1" not in output and "p@ss" not in output


@pytest.mark.parametrize(
    ("url", "shown", "password"),
    [
        ("postgresql://me:p@ss@db:5432/glue", "postgresql://me:***@db:5432/glue", "p@ss"),
        ("postgresql://me:pa/ss@db/glue", "postgresql://me:***@db/glue", "pa/ss"),
        ("postgresql://me:x@db:port/glue", "postgresql://me:***@db:port/glue", "x"),
        ("http://u:p%40w@h/api?token=t0k3n&a=1", "http://u:***@h/api?token=***&a=1", "p@w"),
        ("postgresql://me@db/glue", "postgresql://me@db/glue", None),
        ("s3://bucket/key@version", "s3://bucket/key@version", None),
        ("not a url: at all @", "not a url: at all @", None),
    ],
)
def test_mask_url(url: str, shown: str, password: str | None) -> None:
    assert mask_url(url) == shown
    assert url_password(url) == password


def test_redaction_covers_the_forms_a_value_takes() -> None:
    secrets = Secrets.from_environ({"DB_PASSWORD": "it's@secret", "HOME": "/root"}, ["X"])
    text = "a it's@secret b it''s@secret c it%27s%40secret " + json.dumps("it's@secret")
    assert secrets.redact(text).count("<secret: env DB_PASSWORD>") == 4
    assert "/root" not in secrets.labels  # only variables read, or named like secrets
    assert Secrets.of([("short", "ab")]).labels == {}  # too short to be a secret


def test_json_output_stays_valid_whatever_a_secret_is(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOP_FLAG_TOKEN", "true")  # named like a secret, valued like JSON
    monkeypatch.setenv("PWD", str(project))  # the shell's working folder is no secret
    result = json.loads(cli_run("run", "-p", str(project), "--json"))
    assert result["ok"] is True and result["nodes"]
    assert str(project) in cli_run("compile", "-p", str(project), "--json")
