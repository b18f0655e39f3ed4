"""Both languages are complete, and formatting follows the language."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from tests.i18n_tools import missing, msgids
from tricrm_tui.i18n import _, format_date, format_money, load_catalog, set_language


def test_every_string_has_a_zh_cn_translation() -> None:
    gaps = missing("zh_CN")
    assert not gaps, "untranslated (run `python -m tests.i18n_tools missing`):\n" + "\n".join(
        f"{where}: {m!r}" for m, where in list(gaps.items())[:30]
    )


def test_translations_keep_their_placeholders() -> None:
    catalog = load_catalog("zh_CN")
    for msgid in msgids():
        translated = catalog.get(msgid)
        if translated:
            assert set(re.findall(r"\{\w+\}", msgid)) == set(re.findall(r"\{\w+\}", translated)), (
                msgid
            )


def test_switching_language_and_formats() -> None:
    set_language("zh_CN")
    try:
        assert _("Name") == "名称"
        assert format_money(Decimal("1234.5")) == "¥1,234.50"
        assert format_date(dt.date(2026, 5, 1)) == "2026年5月1日"
    finally:
        set_language("en")
    assert _("Name") == "Name"
    assert format_money(Decimal("-1234.5")) == "-¥1,234.50"
    assert format_date(dt.date(2026, 5, 1)) == "2026-05-01"
