"""The layers hold: the core never imports a face, and the faces build no SQL.

import-linter checks the import graph in CI (see pyproject.toml); these tests make the same
promises visible in the suite and also check what is actually loaded at run time.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "tricrm_tui"


def test_services_load_without_textual_or_typer() -> None:
    code = (
        "import sys, importlib, pkgutil, tricrm_tui.services as s\n"
        "for m in pkgutil.iter_modules(s.__path__): importlib.import_module('tricrm_tui.services.' + m.name)\n"
        "bad = [m for m in ('textual', 'typer') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_help_loads_no_database_or_ui_library() -> None:
    code = (
        "import sys\nfrom tricrm_tui.cli.main import run\n"
        "try:\n    run(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('sqlalchemy', 'sqlmodel', 'textual', 'numpy', 'scipy') if m in sys.modules]\n"
        "sys.stderr.write('HEAVY=' + ','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY=" in out.stderr and out.stderr.split("HEAVY=")[1].strip() == ""


def test_faces_build_no_sql() -> None:
    pattern = re.compile(r"\b(sa\.select|select\(|session\.(execute|exec|query)|text\(\")")
    offenders = [
        str(p.relative_to(PACKAGE))
        for face in ("cli", "tui")
        for p in (PACKAGE / face).rglob("*.py")
        if pattern.search(p.read_text(encoding="utf-8"))
        or "sqlalchemy" in p.read_text(encoding="utf-8")
    ]
    assert offenders == []
