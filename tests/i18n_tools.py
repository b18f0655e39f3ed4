"""Finding every translatable string in the package, for the catalog check.

``python -m tests.i18n_tools missing`` prints the msgids that have no zh_CN translation yet,
as .po entries ready to fill in and append to a catalog in
``tricrm_tui/locale/zh_CN/LC_MESSAGES/``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from tricrm_tui.i18n import load_catalog

PACKAGE = Path(__file__).resolve().parent.parent / "tricrm_tui"
MARKERS = {"_", "N_", "ngettext"}


def msgids() -> dict[str, str]:
    """msgid → first place it appears (path:line)."""
    found: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if name not in MARKERS:
                continue
            args = node.args[:2] if name == "ngettext" else node.args[:1]
            for arg in args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.setdefault(arg.value, f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    return found


def missing(lang: str = "zh_CN") -> dict[str, str]:
    catalog = load_catalog(lang)
    return {m: where for m, where in msgids().items() if not catalog.get(m)}


def _po_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


if __name__ == "__main__":
    if sys.argv[1:] == ["missing"]:
        for msgid, where in missing().items():
            print(f'#: {where}\nmsgid {_po_quote(msgid)}\nmsgstr ""\n')
