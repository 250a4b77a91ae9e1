"""The compile cache (``target/cache/compile.pickle``): work keyed by the content it came from.

Three levels, each a pure function of its key:
- the whole project: if no input file, var or env var read by a model changed, the last
  compiled (Project, Graph) is reused as is;
- per model: the rendered SQL, keyed by the file's text, its config, the vars and the macros;
- per query: the tables the parsed SQL reads, keyed by the resolved SQL;
- per model: its bound output columns, keyed by its SQL and its inputs' columns (a source's
  by its declaration and its files' stamps).
A missing, stale or corrupt cache is simply rebuilt.

The cache holds no secret: of a variable ``env_var()`` read it keeps the name and a digest of
the value; a string that holds the value (rendered SQL) is stored with the variable's name in
its place and the value read again from the environment when loaded (a changed value makes
the entry stale anyway). The targets and crawlers (credentials in URLs and settings) are not
kept with the snapshot: they are read again from their files, which is cheap.
"""

from __future__ import annotations

import glob
import os
import pickle
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glueform import __version__
from glueform.fingerprint import digest
from glueform.secrets import MIN_LENGTH, Secrets, untoken

if TYPE_CHECKING:
    from glueform.compile.dag import Graph
    from glueform.compile.templating import Rendered
    from glueform.project.model import Project
    from glueform.sql import TableRef

CACHE_FILE = Path("target") / "cache" / "compile.pickle"


def code_stamp() -> str:
    """Changes whenever glueform's own code does: a cache never outlives the classes it pickled."""
    package = Path(__file__).resolve().parents[1]  # the whole glueform package
    stats = sorted(
        (str(p.relative_to(package)), p.stat().st_size, p.stat().st_mtime_ns)
        for p in package.rglob("*.py")
    )
    return digest(__version__, stats)


def env_stamp(value: str | None) -> str | None:
    """What the cache keeps of a variable's value: a digest (the value may be a secret)."""
    return None if value is None else digest("env", value)


def env_unchanged(used: Mapping[str, str | None]) -> bool:
    """``used`` maps each variable read to the :func:`env_stamp` of its value then."""
    return all(env_stamp(os.environ.get(name)) == stamp for name, stamp in used.items())


@dataclass
class Snapshot:
    key: str
    project: Project  # without targets and crawlers (see the module docstring)
    graph: Graph
    env: dict[str, str | None]  # name -> env_stamp


class _Pickler(pickle.Pickler):
    """Pickles strings that hold a variable's value as that value's name (``Secrets.tokens``)."""

    def __init__(self, file: Any, secrets: Secrets) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.secrets = secrets

    def persistent_id(self, obj: Any) -> Any:
        if type(obj) is str and len(obj) >= MIN_LENGTH:
            return self.secrets.tokens(obj)
        return None


class _Unpickler(pickle.Unpickler):
    def persistent_load(self, pid: Any) -> str:
        return untoken(pid, os.environ)


@dataclass
class CompileCache:
    path: Path | None = None
    rendered: dict[str, Rendered] = field(default_factory=dict)
    tables: dict[str, frozenset[TableRef]] = field(default_factory=dict)
    relations: dict[tuple[str, str, str], str] = field(default_factory=dict)
    functions: set[str] = field(default_factory=set)  # queries that call table functions
    bound: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    source_columns: dict[str, tuple[tuple[str, str], ...] | None] = field(default_factory=dict)
    validated: set[str] = field(default_factory=set)
    snapshot: Snapshot | None = None
    dirty: bool = False

    @classmethod
    def load(cls, project_root: Path) -> CompileCache:
        path = project_root / CACHE_FILE
        try:
            with path.open("rb") as f:
                version, state = _Unpickler(f).load()
            if version == code_stamp():
                return cls(path, **state)
        except Exception:  # noqa: S110 - any unreadable cache is rebuilt
            pass
        return cls(path)

    def save(self) -> None:
        if not self.dirty or self.path is None:
            return
        state = {
            "rendered": self.rendered,
            "tables": self.tables,
            "relations": self.relations,
            "functions": self.functions,
            "bound": self.bound,
            "source_columns": self.source_columns,
            "validated": self.validated,
            "snapshot": self.snapshot,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        names = {name for r in self.rendered.values() for name in r.env}
        secrets = Secrets.of((f"env {n}", os.environ.get(n)) for n in sorted(names))
        with tmp.open("wb") as f:
            if secrets:
                _Pickler(f, secrets).dump((code_stamp(), state))
            else:  # the common case: nothing to hide, the C pickler alone
                pickle.dump((code_stamp(), state), f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(self.path)
        self.dirty = False

    def relation(self, database: str, name: str, dialect: str) -> str:
        """Quoted ``database.name``, memoised: quoting is the hot spot of a large compile."""
        key = (database, name, dialect)
        found = self.relations.get(key)
        if found is None:
            from glueform.sql import quote_relation

            found = self.relations[key] = quote_relation(database, name, dialect)
            self.dirty = True
        return found

    def keep_only(
        self, render_keys: set[str], sql_hashes: set[str], bind_keys: set[str] | None = None
    ) -> None:
        """Drop entries the last compile did not use, so the cache does not grow forever."""
        if len(self.rendered) > len(render_keys) or len(self.tables) > len(sql_hashes):
            self.rendered = {k: v for k, v in self.rendered.items() if k in render_keys}
            self.tables = {k: v for k, v in self.tables.items() if k in sql_hashes}
            self.functions &= sql_hashes
            self.dirty = True
        if bind_keys is not None and len(self.bound) > len(bind_keys):
            self.bound = {k: v for k, v in self.bound.items() if k in bind_keys}
            self.dirty = True

    def reuse(self, key: str) -> tuple[Project, Graph] | None:
        """The last compiled project and graph, if nothing they came from has changed."""
        snap = self.snapshot
        if snap is None or snap.key != key or not env_unchanged(snap.env):
            return None
        for (
            table
        ) in snap.project.sources.values():  # data files can vanish without a project change
            if "://" not in table.path and not glob.glob(table.path, recursive=True):
                return None
        from glueform.project.loader import load_crawlers, load_targets

        root = snap.project.root
        project = replace(
            snap.project,
            targets=load_targets(root),
            crawlers=load_crawlers(root, self.validated),
        )
        return project, snap.graph

    def remember(
        self, key: str, project: Project, graph: Graph, env: dict[str, str | None]
    ) -> None:
        self.snapshot = Snapshot(key, replace(project, targets={}, crawlers=()), graph, env)
        self.dirty = True
