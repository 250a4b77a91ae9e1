"""Graph -> Plan: what a run would build and why, and the catalog changes (``builder``, a pure
function); the catalog the project asks for (``desired``); saved plans (``saved``) and applying
their catalog changes (``apply``)."""
