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
from decimal import Decimal

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
    """NFC-normalised, trimmed, inner whitespace runs folded to one space, NUL characters
    dropped (they mean nothing in text, and PostgreSQL cannot store them)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    # str.split() splits on runs of any Unicode whitespace and drops the ends, in C: an
    # import calls this for every cell, so it must not cost a regex each time.
    if "\x00" in text:
        text = text.replace("\x00", "")
    return " ".join(text.split())


def fold_width(text: str) -> str:
    """Full-width ASCII letters, digits and punctuation (１３８, ＡＢＣ) to their ASCII forms."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFKC", text)


_CN_MOBILE = re.compile(r"^(?:\+?86|0086)?(1[3-9]\d{9})$")
_PHONE_PUNCT = str.maketrans("", "", " -()")
_CN_MOBILE_PREFIX_OK: dict[str, bool] = {}


def _cn_mobile_fast(raw: str) -> str | None:
    """E.164 for a plain Chinese mobile number without calling phonenumbers (an import
    normalises every row's phone, and parsing costs tens of microseconds each). A prefix is
    trusted only after phonenumbers itself has judged both ends of its number block valid;
    anything else goes the full way."""
    m = _CN_MOBILE.match(raw.translate(_PHONE_PUNCT))
    if not m:
        return None
    digits = m.group(1)
    prefix = digits[:4]
    ok = _CN_MOBILE_PREFIX_OK.get(prefix)
    if ok is None:
        import phonenumbers

        ok = all(
            phonenumbers.is_valid_number(phonenumbers.parse(prefix + tail, "CN"))
            for tail in ("0000000", "9999999", "5550123")
        )
        _CN_MOBILE_PREFIX_OK[prefix] = ok
    return "+86" + digits if ok else None


_FLOAT_TAIL = re.compile(r"(\+?\d+)\.0+")
"""A number written as a float (``13812345678.0``): pandas writes a phone column so when
some of its cells are empty, in CSV and in JSON alike."""


def normalise_phone(value: str, region: str = DEFAULT_REGION) -> str:
    raw = fold_width(clean_text(value))
    if raw[-2:] == ".0" and (whole := _FLOAT_TAIL.fullmatch(raw)):
        raw = whole.group(1)
    if not raw:
        raise InvalidInput(_("phone number is empty"), field="phone")
    if region == "CN" or raw.startswith(("+86", "0086")):
        fast = _cn_mobile_fast(raw)
        if fast:
            return fast
    import phonenumbers

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


_PLAIN_EMAIL = re.compile(
    r"^(?=.{3,254}$)(?=[^@]{1,64}@)[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
)


def normalise_email(value: str) -> str:
    raw = fold_width(clean_text(value)).lower()
    if _PLAIN_EMAIL.match(raw):
        # Plain ASCII addresses, the bulk of any file: a strict pattern (lengths, dots,
        # labels) settles them; everything else gets email-validator's full rules.
        return raw
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(raw, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidInput(
            _("not a valid email address: {value}").format(value=value), field="email"
        ) from exc


_TIME = (
    r"(?:(?P<ampm>上午|下午|AM|PM|am|pm)\s?)?(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?"
    r"(?:[.,]\d+)?(?:\s?(?P<ampm2>AM|PM|am|pm))?(?:\s?(?P<tz>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?))?"
)
"""A time after a date, as exports write one: ``10:30``, ``10:30:00.123`` or ``,123``,
``上午 10:30:00`` / ``10:30 PM``, an offset ``+08``, ``+0800``, ``+08:00``, ``Z`` or ``UTC``."""
_TIME_ANY = re.sub(r"\?P<\w+>", "?:", _TIME)  # the same, capturing nothing
_DATE_PATTERNS = [
    # A time may follow (an exported timestamp); any other tail (``2023-05-01 至 2023-05-31``,
    # a range) is not one date and is refused.
    re.compile(rf"^(\d{{4}})[-/.](\d{{1,2}})[-/.](\d{{1,2}})(?:(?:[ T]|\s+){_TIME_ANY})?$"),
    re.compile(rf"^(\d{{4}})年(\d{{1,2}})月(\d{{1,2}})(?:日|日?$)(?:\s*{_TIME_ANY})?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
]
EXCEL_EPOCH = dt.date(1899, 12, 30)
_EXCEL_SERIAL = re.compile(r"[1-9]\d{4}(\.\d+)?")


def is_excel_serial(text: str) -> bool:
    """Whether ``text`` is an Excel day serial written out (``46091``, ``46091.5``): five
    digits, 1927 to 2173, a fraction being the time of day. Four digits would read a bare
    year (a birthday column holding 1985) as a day in 1905."""
    return _EXCEL_SERIAL.fullmatch(text) is not None


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
    known = _DATE_MEMO.get(raw)
    if known is not None:
        return known
    day = _parse_date_text(raw, value, field)
    if len(_DATE_MEMO) < 100_000:
        _DATE_MEMO[raw] = day
    return day


_DATE_MEMO: dict[str, dt.date] = {}
"""Dates repeat heavily in an order file (a year has 366 of them): parse each text once."""


def _parse_date_text(raw: str, value: object, field: str) -> dt.date:
    if len(raw) == 10 and raw[4] == "-" and raw[7] == "-":
        try:
            return dt.date.fromisoformat(raw)  # the common case, without a regex
        except ValueError:
            pass
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
    if is_excel_serial(raw):
        return EXCEL_EPOCH + dt.timedelta(days=int(float(raw)))
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


# Money: an optional currency sign (¥ or full-width ￥), thousands separators, an optional 元
# suffix. Exact Decimal throughout: a float never enters, so ¥0.10 stays 0.10.
_MONEY = re.compile(
    r"^(?P<sign>[-+]?)\s*(?:[¥￥$]|rmb|cny)?\s*(?P<num>\d[\d,]*(?:\.\d+)?|\.\d+)\s*(?:元|rmb|cny)?$"
)
_MONEY_GROUPS = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")
CENT = Decimal("0.01")
_PLAIN_AMOUNT = re.compile(r"^\d{1,12}(?:\.\d{1,2})?$")
_COMMON_AMOUNT = re.compile(r"[¥￥]?([0-9]{1,12}|[0-9]{1,3}(?:,[0-9]{3}){1,3})((?:\.[0-9]{1,2})?)")
"""What most exported cells look like (``1234.50``, ``￥1,234.50``): ASCII digits, separators
every three digits, at most two decimals, under 1e12. Such a cell needs none of the general
path's folding and checks, and an import meets one per order row."""


def parse_money(value: object, field: str = "amount", *, allow_negative: bool = False) -> Decimal:
    """``￥1,234.50``, ``¥1234.5``, ``1,234.50``, ``1234.5元`` → ``Decimal('1234.50')``.

    Floats are refused (binary fractions are not money; readers hand over text); thousands
    separators must sit every three digits (``1,23`` is a typo, not 123); more than two
    decimals are refused rather than rounded, because rounding an imported amount silently
    changes what was paid. Refunds may be negative only where the caller allows it.
    """
    if isinstance(value, float):
        raise InvalidInput(
            _("amount must be exact text, not a float: {value}").format(value=value), field=field
        )
    if isinstance(value, str):
        common = _COMMON_AMOUNT.fullmatch(value)
        if common:
            return Decimal(common.group(1).replace(",", "") + common.group(2)).quantize(CENT)
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        raw = str(value)
    else:
        raw = fold_width(clean_text(value)).lower().replace(" ", "")
    if _PLAIN_AMOUNT.match(raw):
        return Decimal(raw).quantize(CENT)
    if not raw:
        raise InvalidInput(_("amount is empty"), field=field, code="missing_required")
    m = _MONEY.match(raw)
    num = m.group("num") if m else ""
    if not m or ("," in num and not _MONEY_GROUPS.match(num)):
        raise InvalidInput(_("not an amount: {value}").format(value=value), field=field)
    amount = Decimal(num.replace(",", ""))
    if m.group("sign") == "-":
        amount = -amount
    if amount != amount.quantize(CENT):
        raise InvalidInput(
            _("more than two decimals in amount: {value}").format(value=value), field=field
        )
    if amount < 0 and not allow_negative:
        raise InvalidInput(
            _("amount must not be negative: {value}").format(value=value), field=field
        )
    if abs(amount) >= Decimal("1e12"):
        raise InvalidInput(_("amount too large: {value}").format(value=value), field=field)
    return amount.quantize(CENT)


_INT = re.compile(r"^[-+]?\d+(?:\.0+)?$")
_INT_GROUPS = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.0+)?$")


def parse_int(
    value: object, field: str, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """Whole numbers, full-width digits folded; ``3.0`` (Excel's way of writing 3) accepted;
    commas only as thousands separators (``1,5`` is a decimal comma or a typo, not 15)."""
    raw = fold_width(clean_text(value))
    if "," in raw and _INT_GROUPS.match(raw):
        raw = raw.replace(",", "")
    if not _INT.match(raw):
        raise InvalidInput(_("not a whole number: {value}").format(value=value), field=field)
    number = int(Decimal(raw))
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise InvalidInput(_("out of range: {value}").format(value=value), field=field)
    return number


TIME_TAIL = re.compile(rf"^(?P<date>.+?)(?:[ T]|\s+|(?<=日)){_TIME}$")
"""A date followed by a time of day (``2026-03-05 14:30``, ``2026年3月5日上午10:30``, with an
offset ``+08:00``): groups ``date`` (the text before the time, for :func:`parse_date`), ``h``,
``m``, ``s``, ``ampm``/``ampm2`` and ``tz``. Match it on width-folded, cleaned text."""


def parse_datetime(value: object, field: str = "occurred_at") -> dt.datetime:
    """A moment, stored as aware UTC. Dates alone mean local midnight; naive times are local
    (what an operator typed into a till), explicit offsets are honoured."""
    if isinstance(value, dt.datetime):
        moment = value
    else:
        raw = fold_width(clean_text(value))
        m = TIME_TAIL.match(raw)
        if m:
            day = parse_date(m.group("date"), field)
            hour = int(m.group("h"))
            half = m.group("ampm") or m.group("ampm2")
            if half and not 1 <= hour <= 12:  # 13:00 PM, 上午 0:30: not a twelve-hour time
                raise InvalidInput(_("not a time: {value}").format(value=value), field=field)
            if half in ("下午", "PM", "pm") and hour < 12:
                hour += 12
            elif half in ("上午", "AM", "am") and hour == 12:
                hour = 0
            try:
                moment = dt.datetime(
                    day.year, day.month, day.day, hour, int(m.group("m")), int(m.group("s") or 0)
                )
            except ValueError as exc:
                raise InvalidInput(
                    _("not a time: {value}").format(value=value), field=field
                ) from exc
            tz = m.group("tz")
            if tz:
                if tz in ("Z", "UTC", "GMT"):
                    zone: dt.tzinfo | None = dt.UTC
                else:
                    offset = tz.replace(":", "")
                    try:  # +99, +0860: no offset there is
                        zone = dt.datetime.strptime(offset.ljust(5, "0"), "%z").tzinfo
                    except ValueError as exc:
                        raise InvalidInput(
                            _("not a time zone offset: {value}").format(value=value), field=field
                        ) from exc
                moment = moment.replace(tzinfo=zone)
        elif "." in raw and is_excel_serial(raw):
            # A moment as an Excel serial (a time cell that lost its format): its fraction
            # is the time of day, which was dropped for midnight.
            moment = dt.datetime.combine(EXCEL_EPOCH, dt.time()) + dt.timedelta(
                seconds=round(float(raw) * 86400)
            )
        else:
            day = parse_date(raw, field)
            moment = dt.datetime(day.year, day.month, day.day)
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.astimezone(dt.UTC)
