"""tricrm: a keyboard-first, three-dimensional customer-management system for the terminal.

The package is laid out in layers, lowest first: ``models`` (tables) → ``db`` (engine,
sessions, migrations, search) → ``services`` (business rules, plain data out) → the two
faces ``cli`` (Typer) and ``tui`` (Textual). See docs/ARCHITECTURE.md.
"""

__version__ = "0.1.0"
