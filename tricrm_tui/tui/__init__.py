"""The terminal UI (Textual)."""
