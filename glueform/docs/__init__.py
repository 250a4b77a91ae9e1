"""The docs site: a static site of the project's catalog, lineage (down to columns) and runs.

``build.py`` collects one JSON-able document from the Project, its Graph and the catalog;
``lineage.py`` computes column lineage (through ``sql.py``); ``site.py`` writes the document
beside a fixed HTML/JS/CSS shell (``templates/docs/``) that renders it in the browser, from
``file://`` or any static host.
"""
