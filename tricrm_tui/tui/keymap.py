"""Rebinding keys without touching code: ``keys.toml`` in tricrm's config folder.

Every binding has an id (``app.quit``, ``customers.sort``…; ``?`` lists them all), and
Textual's keymap swaps the key for an id. An operator whose terminal or tmux eats a key
writes, for example::

    [keys]
    "customers.sort" = "o"
    "detail.next_tab" = "l,right_square_bracket"

A file that cannot be read costs a warning, never the session.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from tricrm_tui.i18n import _
from tricrm_tui.locations import config_dir

KEYMAP_FILE = "keys.toml"


def keymap_path() -> Path:
    return config_dir() / KEYMAP_FILE


def load_keymap(path: Path | None = None) -> tuple[dict[str, str], str | None]:
    """(binding id → keys, a problem to show or None). A missing file is no problem."""
    path = path or keymap_path()
    if not path.is_file():
        return {}, None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        return {}, _("ignoring {path}: {error}").format(path=path, error=error)
    keys = data.get("keys", {})
    if not isinstance(keys, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in keys.items()
    ):
        return {}, _(
            'ignoring {path}: [keys] must map binding ids to keys, like "app.quit" = "x"'
        ).format(path=path)
    return {k: v.strip() for k, v in keys.items()}, None
