"""Two languages from the first screen: English and Simplified Chinese.

Every user-facing string goes through :func:`_` (Python's ``gettext`` protocol). Catalogs are
plain ``.po`` files in ``locale/zh_CN/LC_MESSAGES/``, one per area of the app so parallel
work does not collide, read at start-up by the tiny parser below (a few hundred entries take
about a millisecond), so there is no compile step and no binary ``.mo`` to keep in sync.
``tests/unit/test_i18n.py`` fails when a ``_("…")`` string lacks its zh_CN translation.

Numbers, money and dates are formatted per language with Babel, imported only when first used.
"""

from __future__ import annotations

import ast
import datetime as dt
import functools
import gettext
import os
from decimal import Decimal
from pathlib import Path

LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES = ("en", "zh_CN")
CURRENCY_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "HKD": "HK$", "TWD": "NT$", "JPY": "¥"}


class _PoTranslations(gettext.NullTranslations):
    def __init__(self, catalog: dict[str, str]) -> None:
        super().__init__()
        self._catalog = catalog

    def gettext(self, message: str) -> str:
        return self._catalog.get(message) or message

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return self.gettext(msgid1 if n == 1 else msgid2)


def read_po(path: Path) -> dict[str, str]:
    """msgid → msgstr from a .po file (no plural forms or contexts; we do not use them)."""
    catalog: dict[str, str] = {}
    key: str | None = None
    msgid: list[str] = []
    msgstr: list[str] = []

    def flush() -> None:
        if msgid or msgstr:
            mid = "".join(msgid)
            if mid:
                catalog[mid] = "".join(msgstr)

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("msgid "):
            flush()
            msgid, msgstr, key = [], [], "id"
            line = line[6:]
        elif line.startswith("msgstr "):
            key = "str"
            line = line[7:]
        if line.startswith('"'):
            text = ast.literal_eval(line)
            (msgid if key == "id" else msgstr).append(text)
    flush()
    return catalog


def load_catalog(lang: str) -> dict[str, str]:
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    catalog: dict[str, str] = {}
    if folder.is_dir():
        for po in sorted(folder.glob("*.po")):
            catalog.update(read_po(po))
    return catalog


_translations: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def detect_language() -> str:
    """``TRICRM_LANG``, else the POSIX locale variables; Chinese of any region → zh_CN."""
    for var in ("TRICRM_LANG", "LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = os.environ.get(var)
        if value:
            return normalise_language(value)
    return "en"


def normalise_language(value: str) -> str:
    v = value.replace("-", "_").lower()
    return "zh_CN" if v.startswith("zh") else "en"


def set_language(lang: str | None = None) -> str:
    """Switch the process's language (``None``: from the environment). Returns it."""
    global _translations, _language
    _language = normalise_language(lang) if lang else detect_language()
    catalog = load_catalog(_language) if _language != "en" else {}
    _translations = _PoTranslations(catalog)
    return _language


def language() -> str:
    return _language


def _(message: str) -> str:
    return _translations.gettext(message)


def in_every_language(message: str) -> list[str]:
    """``message`` as each language tricrm speaks says it, the current one first: to know
    text tricrm wrote earlier, perhaps for someone using another language."""
    found = [_(message)]
    for lang in LANGUAGES:
        text = (_catalog_of(lang).get(message) if lang != "en" else None) or message
        if text not in found:
            found.append(text)
    return found


@functools.cache
def _catalog_of(lang: str) -> dict[str, str]:
    return load_catalog(lang)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translations.ngettext(singular, plural, n)


def _babel_locale() -> str:
    return "zh_CN" if _language == "zh_CN" else "en_US"


def format_number(value: int | float | Decimal, digits: int | None = None) -> str:
    from babel.numbers import format_decimal

    fmt = None if digits is None else "#,##0." + "0" * digits if digits else "#,##0"
    return format_decimal(value, format=fmt, locale=_babel_locale())


def format_money(value: Decimal | int | None, currency: str = "CNY") -> str:
    """``¥1,234.50`` in both languages: operators read the symbol, not ``CN¥``."""
    if value is None:
        return ""
    from babel.numbers import format_decimal

    amount = Decimal(value)
    symbol = CURRENCY_SYMBOLS.get(currency, currency + " ")
    body = format_decimal(abs(amount), format="#,##0.00", locale=_babel_locale())
    return f"{'-' if amount < 0 else ''}{symbol}{body}"


def format_date(value: dt.date | None) -> str:
    """ISO dates in English (sortable, unambiguous); 2026年11月24日 in Chinese."""
    if value is None:
        return ""
    if _language == "zh_CN":
        return f"{value.year}年{value.month}月{value.day}日"
    return value.isoformat()


def format_datetime(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return f"{format_date(value.date())} {value:%H:%M}"


def format_value(value: object) -> str:
    """Any stored value as a person reads it: ¥ amounts, local times, yes/no, joined lists."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format_money(value)
    if isinstance(value, dt.datetime):
        return format_datetime(value.astimezone())
    if isinstance(value, dt.date):
        return format_date(value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list | tuple):
        return ", ".join(format_value(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={format_value(v)}" for k, v in value.items())
    return str(value)
