"""Hostile input to `validate`: every case is a user error at its file and line, found quickly
and in bounded memory (the subprocess tests run under an address-space cap and a time bound)."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import basic_files, glueform, write_project

from glueform.compile.sandbox import RenderLimits
from glueform.compile.templating import Renderer
from glueform.errors import UserError

MEMORY_CAP = 1024 * 2**20  # validate of a small project needs well under 100 MB
TIME_BOUND = 60  # seconds, on a loaded machine; each case takes about one


def laughs(indent: str = "") -> str:
    """The "billion laughs": nine levels of nine aliases, 9**9 values once expanded."""
    lines = [f"{indent}l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"{indent}l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)]
    return "\n".join(lines) + "\n"


def capped_validate(root: Path) -> subprocess.CompletedProcess[str]:
    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))

    return subprocess.run(
        [sys.executable, "-m", "glueform.cli.main", "validate", "-p", str(root)],
        preexec_fn=cap,
        capture_output=True,
        text=True,
        timeout=TIME_BOUND,
    )


HOSTILE = {
    "billion laughs in sources": {"sources/laughs.yml": "sources: []\n" + laughs()},
    "a self-referencing alias": {"glueform.yml": "name: shop\nvars: &v\n  again: *v\n"},
    "a huge string": {"transforms/marts/big.sql": "select '{{ \"x\" * 2000000000 }}' as x\n"},
    "5,000 nested parentheses": {
        "transforms/marts/deep.sql": "select\n  " + "(" * 5000 + "1" + ")" * 5000 + " as x\n"
    },
    "an endless loop": {
        "transforms/marts/loop.sql": "select 1 as x\n{% for i in range(100000) %}"
        "{% for j in range(100000) %}{% endfor %}{% endfor %}\n"
    },
}
WHERE = {
    "billion laughs in sources": ("sources/laughs.yml:", "aliases expand this file"),
    "a self-referencing alias": ("glueform.yml:3:", "alias refers to the value it is part of"),
    "a huge string": ("big.sql:1:", "2,000,000,000 characters"),
    "5,000 nested parentheses": ("deep.sql:2:35:", "nested 5,000 deep"),
    "an endless loop": ("loop.sql:2:", "more than 1,000,000 steps"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_project_is_a_user_error_in_bounded_memory_and_time(
    tmp_path: Path, case: str
) -> None:
    files = {**basic_files(), **HOSTILE[case]}
    if case == "a self-referencing alias":  # the whole project file is that
        files["glueform.yml"] = HOSTILE[case]["glueform.yml"]
    root = write_project(tmp_path / "p", files)
    result = capped_validate(root)
    place, message = WHERE[case]
    assert result.returncode == 2, result.stderr
    assert place in result.stderr and message in result.stderr, result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "rel",
    [
        "glueform.yml",
        "sources/raw.yml",
        "transforms/marts/marts.yml",
        "jobs/j.yml",
        "crawlers/c.yml",
    ],
)
def test_aliases_are_bounded_in_every_project_file(tmp_path: Path, rel: str) -> None:
    files = basic_files()
    files[rel] = files.get(rel, "") + laughs()
    root = write_project(tmp_path / "p", files)
    result = glueform("validate", "-p", str(root))
    assert result.exit_code == 2
    assert f"{rel}:" in result.stderr and "aliases expand this file" in result.stderr


def test_aliases_that_repeat_a_value_a_few_times_still_work(tmp_path: Path) -> None:
    files = basic_files()
    files["sources/raw.yml"] = (
        "columns: &cols\n  - {name: order_id, type: BIGINT}\n  - {name: amount, type: BIGINT}\n"
        "sources:\n  - name: raw\n    tables:\n"
        "      - {name: orders, path: data/orders.csv, columns: *cols}\n"
        "      - {name: customers, path: data/customers.ndjson}\n"
    ).replace("columns: &cols", "x-columns: &cols")
    root = write_project(tmp_path / "p", files)
    result = glueform("validate", "-p", str(root))
    # the schema refuses the extra top-level key: the alias itself was built without trouble
    assert "x-columns" in result.stderr and "aliases expand" not in result.stderr


def test_values_nested_too_deep_are_refused(tmp_path: Path) -> None:
    files = basic_files()
    files["glueform.yml"] += "  deep: " + "[" * 70 + "]" * 70 + "\n"
    files["glueform.yml"] = files["glueform.yml"].replace("vars:\n", "vars:\n", 1)
    root = write_project(tmp_path / "p", files)
    result = glueform("validate", "-p", str(root))
    assert result.exit_code == 2 and "nested more than 64 levels deep" in result.stderr


def test_a_var_given_on_the_command_line_is_bounded_too(project: Path) -> None:
    result = glueform("validate", "-p", str(project), "--var", "x=&a [1, *a]")
    assert result.exit_code == 2 and "alias refers to the value it is part of" in result.stderr
    assert glueform("validate", "-p", str(project), "--var", "min_amount=5").exit_code == 0


def render(text: str, limits: RenderLimits | None = None) -> str:
    renderer = Renderer({}, (), env={}, limits=limits)
    return renderer.render(text, Path("m.sql"), "m", lambda s, t: True).sql


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ 'x'.ljust(2000000000) }}", "2,000,000,000 characters"),
        ("{{ 'x'|center(2000000000) }}", "2,000,000,000 characters"),
        ("{{ '%2000000000s' % 'x' }}", "a formatted field of 2,000,000,000"),
        ("{{ '{:>2000000000}'.format(1) }}", "a formatted field of 2,000,000,000"),
        ("{{ 2 ** 1000000000 }}", "an integer of about"),
        ("{% set s = 'x' * 5000000 %}{{ s|replace('x', s) }}", "25,000,000,000,000 characters"),
        ("{% set s = 'x' * 5000000 %}{{ s.replace('x', s) }}", "25,000,000,000,000 characters"),
        ("{% set s = 'x\\n' * 1000000 %}{{ s|indent(1000) }}", "1,002,001,000 characters"),
        ("{{ ['x'] * 2000000000 }}", "2,000,000,000 characters"),
        (
            "{% set ns = namespace(s='xy') %}{% for i in range(60) %}"
            "{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
            "16,777,216 characters",
        ),
        ("{% set s = 'x' * 1000000 %}{% for i in range(100) %}{{ s }}{% endfor %}", "renders more"),
        ("{% for i in range(10000) %}{{ 'x' * 2000 }}{% endfor %}", "renders more"),
        (
            "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
            "{{ f(60) }}",
            "steps",
        ),
        ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "recursion"),
        ("{{ [1]|slice(2000000000)|list }}", "steps"),
    ],
)
def test_a_render_is_bounded(template: str, message: str) -> None:
    limits = RenderLimits(max_steps=20_000)  # the default is 1,000,000: quicker here
    with pytest.raises(UserError) as info:
        render("select 1 as x\n" + template + "\n", limits)
    assert message in info.value.message, info.value.message
    assert info.value.location is not None and info.value.location.line == 2


def test_ordinary_templates_render_as_before() -> None:
    template = (
        "{% macro cols(n) %}{% for i in range(n) %}c{{ i }} * {{ 2 ** 10 }} as c{{ i }}"
        "{{ ', ' if not loop.last }}{% endfor %}{% endmacro %}"
        "select {{ cols(1000) }}, '{{ '%05d' % 7 }}' as p, '{{ 'a-b'|replace('-', '_') }}' as r,"
        " '{{ ['x', 'y']|join(',') }}' as j, '{{ 'ab' ~ 'cd' }}' as k, {{ '{:>3}'.format(1) }}"
        " from t\n"
    )
    sql = render(template)
    assert sql.startswith("select c0 * 1024 as c0, c1 * 1024 as c1")
    assert "c999 * 1024 as c999, '00007' as p, 'a_b' as r, 'x,y' as j, 'abcd' as k," in sql


def test_brackets_nest_up_to_the_bound() -> None:
    limits = RenderLimits()
    deep = "(" * limits.max_nesting + "1" + ")" * limits.max_nesting
    assert render(f"select {deep} as x\n") == f"select {deep} as x\n"
    quoted = "select '" + "(" * 100 + "' as x -- " + "(" * 100 + "\n"
    assert render(quoted) == quoted  # inside strings and comments brackets do not nest
    with pytest.raises(UserError, match="nested 33 deep"):
        render(f"select ({deep}) as x\n")


def test_constructs_nested_without_brackets_are_a_user_error(tmp_path: Path) -> None:
    files = basic_files()
    deep = "case when 1 = 1 then " * 300 + "1" + " end" * 300
    files["transforms/marts/deep.sql"] = f"select {deep} as x\n"
    root = write_project(tmp_path / "p", files)
    result = glueform("validate", "-p", str(root))
    assert result.exit_code == 2 and "nests too deeply" in result.stderr


# -- names that differ only in case: one name on the engines ---------------------------------


def case_project(tmp_path: Path, **files: str) -> str:
    """Validate the basic project with ``files`` (path with / as __) added; returns stderr."""
    extra = {k.replace("__", "/"): v for k, v in files.items()}
    root = write_project(tmp_path / "p", {**basic_files(), **extra})
    result = glueform("validate", "-p", str(root))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.stderr


def test_two_models_whose_names_differ_only_in_case(tmp_path: Path) -> None:
    err = case_project(
        tmp_path,
        **{
            "transforms__marts__Totals.sql": "select 1 as n\n",
            "transforms__staging__totals.sql": "select 2 as n\n",
        },
    )
    assert "two models are named" in err
    assert "marts/Totals.sql" in err and "staging/totals.sql" in err


def test_a_ref_in_another_case_than_its_model_is_refused_with_the_right_name(
    tmp_path: Path,
) -> None:
    err = case_project(
        tmp_path,
        **{
            "transforms__marts__totals.sql": "select 1 as n\n",
            "transforms__marts__report.sql": "select * from {{ ref('Totals') }}\n",
        },
    )
    assert "report.sql:1:" in err and "ref('Totals') names a missing model" in err
    assert "did you mean 'totals'?" in err


def test_source_tables_whose_names_differ_only_in_case(tmp_path: Path) -> None:
    other = "sources:\n  - name: RAW\n    tables:\n      - {name: Orders, path: data/orders.csv}\n"
    err = case_project(tmp_path, **{"sources__more.yml": other})
    assert "source table 'raw.orders' is declared twice (as 'RAW.Orders')" in err
    assert "sources/raw.yml:" in err and "sources/more.yml:4:" in err


def test_databases_whose_names_differ_only_in_case(tmp_path: Path) -> None:
    err = case_project(
        tmp_path,
        **{
            "transforms__marts__a.sql": "{{ config(database='Marts') }}select 1 as n\n",
            "transforms__marts__b.sql": "{{ config(database='marts') }}select 2 as n\n",
        },
    )
    assert "databases 'Marts'" in err and "'marts'" in err
    assert "marts/a.sql" in err and "marts/b.sql" in err


def test_a_model_that_would_overwrite_a_source_table_in_another_case(tmp_path: Path) -> None:
    err = case_project(
        tmp_path,
        **{"transforms__marts__Orders.sql": "{{ config(database='raw') }}select 1 as n\n"},
    )
    assert "model 'Orders' would overwrite source table raw.orders" in err


def test_declared_columns_whose_names_differ_only_in_case(tmp_path: Path) -> None:
    source = (
        "sources:\n  - name: raw\n    tables:\n      - name: orders\n        path: data/orders.csv\n"
        "        columns:\n          - {name: order_id}\n          - {name: Order_ID}\n"
        "      - {name: customers, path: data/customers.ndjson}\n"
    )
    err = case_project(tmp_path, **{"sources__raw.yml": source})
    assert "sources/raw.yml:8:" in err and "column 'Order_ID' is declared twice" in err
    docs = "transforms:\n  - name: stg_orders\n    columns:\n      - {name: amount}\n      - {name: AMOUNT}\n"
    err = case_project(tmp_path / "m", **{"transforms__staging__stg.yml": docs})
    assert "stg.yml:5:" in err and "column 'AMOUNT' is declared twice (as 'amount'" in err


@pytest.mark.parametrize(
    ("select", "message"),
    [
        ("select amount, Amount from {{ source('raw', 'orders') }}", "'amount' and 'Amount'"),
        (
            "select o.order_id, c.order_id from {{ source('raw', 'orders') }} o "
            "join {{ source('raw', 'orders') }} c using (customer_id)",
            "output column 'order_id' twice",
        ),
        (
            "select 1 as x, 2 as X union all select 3, 4",
            "output column 'X' twice ('x' and 'X')",
        ),
    ],
)
def test_output_columns_whose_names_differ_only_in_case(
    tmp_path: Path, select: str, message: str
) -> None:
    err = case_project(tmp_path, **{"transforms__marts__dup.sql": select + "\n"})
    assert "dup.sql:1:" in err and message in err, err


# -- files and folders the operating system refuses, and a closed stdout ------------------------


def test_a_model_file_that_is_not_utf8_is_an_error_at_its_byte(tmp_path: Path) -> None:
    files = basic_files()
    files["transforms/marts/latin.sql"] = "select 1 as x\nselect 'caf\xe9' as y\n".encode("latin-1")
    result = glueform("validate", "-p", str(write_project(tmp_path / "p", files)))
    assert result.exit_code == 2, result.output
    assert "latin.sql:2:12: not UTF-8 text: byte e9" in result.stderr
    assert "iconv" in result.stderr and "internal error" not in result.output


def test_a_yaml_file_that_is_not_utf8_is_an_error_at_its_byte(tmp_path: Path) -> None:
    files = basic_files()
    files["sources/raw.yml"] = files["sources/raw.yml"].encode() + b"# \xff\n"
    result = glueform("validate", "-p", str(write_project(tmp_path / "p", files)))
    assert result.exit_code == 2 and "raw.yml:8:3: not UTF-8 text: byte ff" in result.stderr


def test_a_glueform_yml_that_is_a_folder_says_so(tmp_path: Path) -> None:
    files = {k: v for k, v in basic_files().items() if k != "glueform.yml"}
    root = write_project(tmp_path / "p", files)
    (root / "glueform.yml").mkdir()
    result = glueform("validate", "-p", str(root))
    assert result.exit_code == 2
    assert "glueform.yml is a folder, not a file" in result.stderr


def _without_file_permissions() -> list[str]:
    """A command prefix under which permission bits hold (root overrides them otherwise)."""
    import os
    import shutil

    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv (util-linux): permission bits do not hold")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


@pytest.mark.parametrize(
    ("locked", "cwd", "message"),
    [
        (".", True, "cannot read the folder"),
        ("transforms/marts", False, "cannot read the folder"),
        ("glueform.yml", False, "glueform.yml:1:1: cannot read glueform.yml: Permission denied"),
    ],
)
def test_what_cannot_be_read_is_a_user_error(
    tmp_path: Path, locked: str, cwd: bool, message: str
) -> None:
    root = write_project(tmp_path / "p", basic_files())
    target = root / locked
    mode = target.stat().st_mode
    target.chmod(0)
    try:
        where = ["-p", str(root)] if not cwd else []
        done = subprocess.run(
            [
                *_without_file_permissions(),
                sys.executable,
                "-m",
                "glueform.cli.main",
                "validate",
                *where,
            ],  # fmt: skip
            cwd=root if cwd else tmp_path,
            capture_output=True,
            text=True,
            timeout=TIME_BOUND,
        )
    finally:
        target.chmod(mode)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "internal error" not in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("args", [["validate"], ["compile", "--json"], ["--help"]])
def test_a_closed_stdout_ends_quietly(project: Path, args: list[str]) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "glueform.cli.main", *args, "-p", str(project)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader went away before the first line (`| head -0`)
    assert process.wait(TIME_BOUND) == 1
    assert process.stderr.read() == b""
