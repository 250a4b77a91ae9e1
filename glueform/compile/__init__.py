"""Project -> Graph: render each model's Jinja, resolve refs and sources, parse, cross-check the
dependencies and fingerprint every node (``compiler``), cached by content (``cache``); the
Graph and its selectors live in ``dag``."""
