"""The package's layout: what the wheel ships matches the folders, and the layers import only
downward (files -> Project -> Graph -> Plan -> Engine + Catalog)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_is_listed_for_the_wheel() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "glueform").rglob("__init__.py")
    }
    mapped = set(config["package-dir"])
    assert set(config["packages"]) == folders | mapped
    for package, folder in config["package-dir"].items():
        assert (ROOT / folder / "__init__.py").is_file(), package


def test_templates_and_schemas_are_found_as_package_resources() -> None:
    from importlib import resources

    assert (resources.files("glueform.schemas") / "project.schema.json").is_file()
    assert (resources.files("glueform.templates") / "init" / "glueform.yml").is_file()


# Each layer may import itself and the layers named after it, never one above it.
LAYERS = {
    "errors": set(),
    "secrets": set(),
    "fingerprint": set(),
    "parquet": set(),  # Parquet footers: the crawler and the engines read them
    "project": {"errors", "secrets", "fingerprint"},
    "sql": {"fingerprint", "errors", "secrets"},
    # transforms/ spans the stages: compile.py reads a transform's file, runtime.py runs it
    "compile": {"fingerprint", "errors", "secrets", "project", "sql", "transforms"},
    "catalog": {"fingerprint", "errors", "secrets", "project", "sql", "compile"},
    "plan": {"fingerprint", "errors", "secrets", "project", "sql", "compile", "catalog"},
    "engines": {
        "fingerprint",
        "errors",
        "secrets",
        "project",
        "sql",
        "compile",
        "catalog",
        "transforms",
        "crawl",
        "parquet",
    },
    "build": {
        "fingerprint",
        "errors",
        "secrets",
        "project",
        "sql",
        "compile",
        "catalog",
        "plan",
        "engines",
    },
}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("glueform."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("glueform.")}
    return found


def test_layers_import_only_downward() -> None:
    wrong = []
    for layer, allowed in LAYERS.items():
        package = ROOT / "glueform" / layer
        files = list(package.rglob("*.py")) if package.is_dir() else [package.with_suffix(".py")]
        for file in files:
            above = _imports(file) - allowed - {layer}
            if above:
                wrong.append(f"{file.relative_to(ROOT)} imports {sorted(above)}")
    assert wrong == []


def test_nothing_imports_the_cli() -> None:
    offenders = [
        str(f.relative_to(ROOT))
        for f in (ROOT / "glueform").rglob("*.py")
        if "cli" not in f.relative_to(ROOT / "glueform").parts and "cli" in _imports(f)
    ]
    assert offenders == []


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_level_imports(
    source: str, package: str, modules: set[str], deferred: bool = False
) -> set[str]:
    """The glueform modules that a module in ``package`` imports when it is imported (with
    ``deferred``, also those imported inside functions; never those under TYPE_CHECKING);
    ``from x import name`` counts as the submodule ``x.name`` when there is one, else as ``x``."""
    found: set[str] = set()

    def add(name: str) -> None:
        while name not in modules and "." in name:
            name = name.rsplit(".", 1)[0]
        if name in modules:
            found.add(name)

    def visit(statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, ast.If):
                if "TYPE_CHECKING" not in ast.unparse(node.test):
                    visit(node.body + node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body + node.orelse + node.finalbody)
                for handler in node.handlers:
                    visit(handler.body)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    add(alias.name)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    base = f"{anchor}.{base}" if base else anchor
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    add(full if full in modules else base)
            elif deferred:
                visit(
                    [child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt)]
                )

    visit(ast.parse(source).body)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The sets of modules that import each other (strongly connected components of more than
    one module, by Tarjan's algorithm), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            connect(module)
    return found


def _import_graph(deferred: bool) -> dict[str, set[str]]:
    files = {_module_name(p): p for p in (ROOT / "glueform").rglob("*.py")}
    graph = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        source = path.read_text(encoding="utf-8")
        graph[name] = module_level_imports(source, package, set(files), deferred) - {name}
    return graph


def test_no_import_cycles() -> None:
    """Importing any module never re-enters a module that is still being imported."""
    graph = _import_graph(deferred=False)
    assert len(graph) > 50 and graph["glueform.cli.main"]
    assert cycles(graph) == []


def test_no_import_cycles_through_deferred_imports() -> None:
    """Nor do modules depend on each other through imports deferred into functions (to keep
    start-up fast): the modules form layers. The root package is left out: every submodule's
    import runs it first anyway, and it only names the Workspace façade lazily."""
    graph = {m: deps - {"glueform"} for m, deps in _import_graph(deferred=True).items()}
    assert "glueform.compile.sandbox" in graph["glueform.compile.templating"]
    assert cycles({m: deps for m, deps in graph.items() if m != "glueform"}) == []


def test_the_cycle_check_can_fail() -> None:
    modules = {"glueform.cli", "glueform.cli.main", "glueform.cli.jobs", "glueform.errors"}
    source = (
        "from typing import TYPE_CHECKING\n"
        "from glueform.cli import main\n"
        "from . import jobs as _\n"
        "import glueform.errors.x\n"
        "if TYPE_CHECKING:\n"
        "    from glueform.cli import jobs\n"
        "def later():\n"
        "    import glueform.cli\n"
    )
    found = module_level_imports(source, "glueform.cli", modules)
    assert found == {"glueform.cli.main", "glueform.cli.jobs", "glueform.errors"}
    found = module_level_imports(source, "glueform.cli", modules, deferred=True)
    assert found == {"glueform.cli", "glueform.cli.main", "glueform.cli.jobs", "glueform.errors"}
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e", "d"}}
    assert cycles(graph) == [["a", "b", "c"]]
