"""``glueform docs ...``: generate the static docs site, and serve it."""

from __future__ import annotations

from pathlib import Path

import click

from glueform.cli.base import Context, cli, common


@cli.group()
def docs() -> None:
    """A static site of the catalog, lineage (down to columns) and runs."""


@docs.command()
@common(json_flag=True)
@click.option(
    "--out", type=click.Path(file_okay=False), help="Folder to write (default: target/docs/)."
)
def generate(ctx: Context, out: str | None) -> int:
    """Write the site (index.html, data.js, docs.js, docs.css): it opens from file:// too."""
    index = ctx.workspace().docs(Path(out) if out else None)
    console = ctx.console()
    console.data({"index": str(index)})
    console.markup(f"docs written: {index}")
    return 0


@docs.command()
@common()
@click.option(
    "--out", type=click.Path(file_okay=False), help="Site folder (default: target/docs/)."
)
@click.option("--port", type=click.IntRange(0, 65535), default=8080, help="0: any free port.")
def serve(ctx: Context, out: str | None, port: int) -> int:
    """Serve the generated site on 127.0.0.1 until Ctrl-C (generate it first)."""
    from glueform.docs.site import make_server, site_folder

    folder = site_folder(ctx.project, Path(out) if out else None)
    server = make_server(folder, port)
    ctx.console().markup(f"serving {folder} at http://127.0.0.1:{server.server_address[1]}/")
    try:
        server.serve_forever()
    except KeyboardInterrupt:  # Ctrl-C is how a server ends: not an interruption of work
        pass
    finally:
        server.server_close()
    return 0
