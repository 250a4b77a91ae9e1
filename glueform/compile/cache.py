"""The compile cache (``target/cache/compile.pickle``): work keyed by the content it came from.

Three levels, each a pure function of its key:
- the whole project: if no input file, var or env var read by a model changed, the last
  compiled (Project, Graph) is reused as is;
- per model: the rendered SQL, keyed by the file's text, its config, the vars and the macros;
- per query: the tables the parsed SQL reads, keyed by the resolved SQL.
A missing, stale or corrupt cache is simply rebuilt.
"""

from __future__ import annotations

import glob
import os
import pickle
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from glueform import __version__
from glueform.fingerprint import digest

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


def env_unchanged(used: Mapping[str, str | None]) -> bool:
    return all(os.environ.get(name) == value for name, value in used.items())


@dataclass
class Snapshot:
    key: str
    project: Project
    graph: Graph
    env: dict[str, str | None]


@dataclass
class CompileCache:
    path: Path | None = None
    rendered: dict[str, Rendered] = field(default_factory=dict)
    tables: dict[str, frozenset[TableRef]] = field(default_factory=dict)
    relations: dict[tuple[str, str, str], str] = field(default_factory=dict)
    validated: set[str] = field(default_factory=set)
    snapshot: Snapshot | None = None
    dirty: bool = False

    @classmethod
    def load(cls, project_root: Path) -> CompileCache:
        path = project_root / CACHE_FILE
        try:
            with path.open("rb") as f:
                version, state = pickle.load(f)
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
            "validated": self.validated,
            "snapshot": self.snapshot,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as f:
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

    def keep_only(self, render_keys: set[str], sql_hashes: set[str]) -> None:
        """Drop entries the last compile did not use, so the cache does not grow forever."""
        if len(self.rendered) > len(render_keys) or len(self.tables) > len(sql_hashes):
            self.rendered = {k: v for k, v in self.rendered.items() if k in render_keys}
            self.tables = {k: v for k, v in self.tables.items() if k in sql_hashes}
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
        return snap.project, snap.graph

    def remember(
        self, key: str, project: Project, graph: Graph, env: dict[str, str | None]
    ) -> None:
        self.snapshot = Snapshot(key, project, graph, env)
        self.dirty = True
