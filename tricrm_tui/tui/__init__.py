"""The terminal UI: a Textual app over the service layer.

Screens live in ``screens/`` (one per file), reusable widgets in ``widgets/``. No module here
builds a query: every read and write is a service call made in a thread worker, so the UI
never freezes on a slow database.
"""
