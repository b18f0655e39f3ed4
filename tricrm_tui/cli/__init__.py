"""The command-line face: one Typer sub-app per command group, all thin over the services."""
