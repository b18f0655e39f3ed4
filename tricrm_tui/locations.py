"""Where tricrm keeps its files: platformdirs, overridable by environment for tests and scripts."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "tricrm"


def data_dir() -> Path:
    if env := os.environ.get("TRICRM_DATA_DIR"):
        return Path(env)
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False)


def config_dir() -> Path:
    if env := os.environ.get("TRICRM_CONFIG_DIR"):
        return Path(env)
    from platformdirs import user_config_path

    return user_config_path(APP_NAME, appauthor=False)


def default_db_path() -> Path:
    return data_dir() / "tricrm.db"
