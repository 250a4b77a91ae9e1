"""The JSON Schema of every YAML kind of a project: the published contract, used by the loader
to validate and by editors for completion. Installed as glueform.schemas."""
