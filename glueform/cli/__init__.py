"""The command line: thin click commands over :class:`glueform.workspace.Workspace`."""
