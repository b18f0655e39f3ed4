"""Reading the small TOML settings files in the config folder (``smtp.toml``,
``feedback.toml``, ``campaigns.toml``): absent means defaults, broken means a clear error."""

from __future__ import annotations

import tomllib
from typing import Any

from tricrm_tui.i18n import _
from tricrm_tui.locations import config_dir
from tricrm_tui.services.errors import InvalidInput


def read_toml(filename: str, *, field: str) -> dict[str, Any]:
    """The parsed file, or ``{}`` when it does not exist; InvalidInput naming ``field``."""
    path = config_dir() / filename
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(
            _("{path} is not valid TOML: {error}").format(path=path, error=exc), field=field
        ) from exc
