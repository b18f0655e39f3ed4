"""Cleaning one value at a time: phones, emails, dates, customer kinds, text.

Each function returns the clean value or raises :class:`InvalidInput` with a reason a person
can act on. Used by the customer forms and, row by row, by imports.

Libraries, and why: ``phonenumbers`` (Google's libphonenumber metadata: knows which Chinese
mobile and fixed-line numbers are valid, and E.164); ``email-validator`` (RFC syntax and IDN
handling, with DNS checks off so imports work offline).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from tricrm_tui.i18n import _
from tricrm_tui.services.errors import InvalidInput

DEFAULT_REGION = "CN"

KIND_SYNONYMS = {
    "individual": "individual",
    "person": "individual",
    "personal": "individual",
    "consumer": "individual",
    "b2c": "individual",
    "个人": "individual",
    "個人": "individual",
    "自然人": "individual",
    "enterprise": "enterprise",
    "company": "enterprise",
    "business": "enterprise",
    "corporate": "enterprise",
    "organisation": "enterprise",
    "organization": "enterprise",
    "b2b": "enterprise",
    "企业": "enterprise",
    "企業": "enterprise",
    "公司": "enterprise",
    "单位": "enterprise",
    "机构": "enterprise",
}


def clean_text(value: object) -> str:
    """NFC-normalised, trimmed, inner whitespace runs folded to one space."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    return re.sub(r"\s+", " ", text).strip()


def fold_width(text: str) -> str:
    """Full-width ASCII letters, digits and punctuation (１３８, ＡＢＣ) to their ASCII forms."""
    return unicodedata.normalize("NFKC", text)


def normalise_phone(value: str, region: str = DEFAULT_REGION) -> str:
    import phonenumbers

    raw = fold_width(clean_text(value))
    if not raw:
        raise InvalidInput(_("phone number is empty"), field="phone")
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(
            _("not a phone number: {value}").format(value=value), field="phone"
        ) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInput(
            _("not a valid phone number: {value}").format(value=value), field="phone"
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(value: str) -> str:
    from email_validator import EmailNotValidError, validate_email

    raw = fold_width(clean_text(value)).lower()
    try:
        return validate_email(raw, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidInput(
            _("not a valid email address: {value}").format(value=value), field="email"
        ) from exc


_DATE_PATTERNS = [
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
]
EXCEL_EPOCH = dt.date(1899, 12, 30)


def parse_date(value: object, field: str = "date") -> dt.date:
    """ISO, ``2023/5/1``, ``2023.5.1``, ``2023年5月1日``, ``20230501`` and Excel serials.

    Never guesses: day-first forms like ``01/05/2023`` are ambiguous and refused.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raw = fold_width(clean_text(value))
    if not raw:
        raise InvalidInput(_("date is empty"), field=field)
    for pattern in _DATE_PATTERNS:
        m = pattern.match(raw)
        if m:
            y, mo, d = (int(g) for g in m.groups())
            try:
                return dt.date(y, mo, d)
            except ValueError as exc:
                raise InvalidInput(
                    _("no such date: {value}").format(value=value), field=field
                ) from exc
    if re.fullmatch(r"\d{4,5}(\.\d+)?", raw):
        serial = float(raw)
        if 1 <= serial < 2958466:
            return EXCEL_EPOCH + dt.timedelta(days=int(serial))
    raise InvalidInput(_("not a date: {value}").format(value=value), field=field)


def normalise_kind(value: object) -> str:
    raw = clean_text(value).lower()
    if not raw:
        return "individual"
    kind = KIND_SYNONYMS.get(raw)
    if kind is None:
        raise InvalidInput(
            _("unknown customer kind: {value} (individual or enterprise)").format(value=value),
            field="kind",
        )
    return kind


def normalise_code(value: object) -> str:
    code = fold_width(clean_text(value))
    if not code:
        raise InvalidInput(_("customer code is required"), field="code", code="missing_required")
    if len(code) > 64 or re.search(r"\s", code):
        raise InvalidInput(
            _("customer code must be at most 64 characters with no spaces: {value}").format(
                value=value
            ),
            field="code",
        )
    return code
