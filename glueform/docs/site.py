"""Write the docs site: the fixed shell from ``templates/docs/`` and the project's ``data.js``.

The data is a script that sets ``window.GLUEFORM_DOCS`` rather than a JSON file read with
fetch(): browsers refuse fetch() from ``file://``, and the site must open from a folder.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

SHELL = ("index.html", "docs.js", "docs.css")
DATA_FILE = "data.js"


def write_site(document: Mapping[str, Any], out: Path) -> Path:
    """Write the site into ``out`` (created if missing) and return its ``index.html``."""
    out.mkdir(parents=True, exist_ok=True)
    templates = resources.files("glueform.templates") / "docs"
    for name in SHELL:
        (out / name).write_text((templates / name).read_text(encoding="utf-8"), encoding="utf-8")
    payload = json.dumps(document, separators=(",", ":"), ensure_ascii=False, default=str)
    # "</" would end the script element if the data were ever inlined; escape it anyway
    payload = payload.replace("</", "<\\/")
    (out / DATA_FILE).write_text(f"window.GLUEFORM_DOCS = {payload};\n", encoding="utf-8")
    return out / "index.html"


def make_server(folder: Path, port: int = 8080, host: str = "127.0.0.1") -> Any:
    """An HTTP server for ``folder`` (port 0: any free port); the caller runs and stops it."""
    import functools
    import http.server

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # the console reports, not this
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    return http.server.ThreadingHTTPServer((host, port), handler)


def default_folder(project_root: Path) -> Path:
    return project_root / "target" / "docs"


def site_folder(project_root: Path, out: Path | None) -> Path:
    """The folder to serve: ``out`` or the project's ``target/docs``, which must hold a site."""
    from glueform.errors import UserError

    folder = out or default_folder(project_root)
    if not (folder / "index.html").is_file():
        raise UserError(
            f"no docs site in {folder}",
            hint="write it first with 'glueform docs generate'" + (f" --out {out}" if out else ""),
        )
    return folder
