"""Turning an import file's cells into field values, and the reasons a row is refused.

Customers and interactions are cleaned a row at a time (their cells are mostly distinct:
names, phones, notes). Orders are cleaned a column at a time over a whole batch
(:class:`OrderColumns`): an order file repeats its dates, amounts, quantities, products,
categories and channels on every line, so each distinct cell text is cleaned once per
column and every other line is a dictionary hit, in a comprehension rather than a call per
cell. Both paths call the same parsers (``normalize``), so a cell means the same whichever
way it came, and a row's first fault is reported in the same field order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from tricrm_tui.i18n import _
from tricrm_tui.models import Customer, Interaction, Order, Product, ProductCategory
from tricrm_tui.models.interactions import CHANNELS
from tricrm_tui.services.classify import checked_tags
from tricrm_tui.services.customers import FIELD_COLUMNS, TAG_SEPARATORS, validate_fields
from tricrm_tui.services.errors import InvalidInput
from tricrm_tui.services.mapping import KEY_FIELD
from tricrm_tui.services.normalize import (
    clean_text,
    fold_width,
    parse_date,
    parse_datetime,
    parse_int,
    parse_money,
)
from tricrm_tui.services.readers import INVALID, INVALID_REASON
from tricrm_tui.services.timespec import parse_due_cell

TABLE = {
    "customers": Customer.__table__,
    "orders": Order.__table__,
    "interactions": Interaction.__table__,
}

CHANNEL_SYNONYMS = {
    "电话": "phone", "手机": "phone", "tel": "phone", "call": "phone",
    "邮件": "email", "电子邮件": "email", "e-mail": "email", "mail": "email",
    "微信": "wechat", "weixin": "wechat", "短信": "sms", "text": "sms",
    "在线": "chat", "聊天": "chat", "在线客服": "chat", "拜访": "visit", "上门": "visit",
    "面谈": "visit", "社交媒体": "social", "微博": "social", "其他": "other",
}  # fmt: skip
DIRECTION_SYNONYMS = {
    "in": "inbound", "inbound": "inbound", "呼入": "inbound", "来电": "inbound",
    "out": "outbound", "outbound": "outbound", "呼出": "outbound", "去电": "outbound",
}  # fmt: skip
KEY_OK = re.compile(r"^\S{1,64}$")


class RowError(Exception):
    def __init__(self, code: str, field_name: str | None, reason: str) -> None:
        super().__init__(reason)
        self.code, self.field, self.reason = code, field_name, reason


def unmark(value: Any) -> Any:
    """A cell without the ``'`` an export (tricrm's, a spreadsheet's) puts before text that
    starts with ``=``, ``+``, ``-`` or ``@`` so it is not run as a formula: a mark, not part
    of the text, so an exported file imports back unchanged. Only an import's cells: text
    typed into tricrm keeps its apostrophes."""
    if value.__class__ is str and value[:1] == "'" and _MARKED(value):
        return value[1:]
    return value


def carries_marks(source_format: str) -> bool:
    """Whether a file of ``source_format`` may carry an export's formula marks (the ``'``
    :func:`unmark` takes off): delimited text and every workbook format, not JSON Lines,
    whose text is plain."""
    from tricrm_tui.services.readers_legacy import SHEET_FORMATS

    return source_format in ("csv", "xlsx", *SHEET_FORMATS)


_MARKED = re.compile(r"'+[=+\-@\t\r]").match
"""One or more apostrophes before a formula sign: the export added the first (it adds one
to text already starting so, which this gives back)."""


def invalid_line(raw: dict[str, Any]) -> RowError:
    """A line a reader could make no record of (not a JSON object; more cells than the
    header), refused before anything else is said of it."""
    return RowError("invalid_value", None, raw.get(INVALID_REASON) or _("not a JSON object"))


def reject_from(exc: InvalidInput, default_field: str | None = None) -> RowError:
    return RowError(exc.code, exc.field or default_field, str(exc))


def clean_key(value: Any, field_name: str) -> str:
    key = fold_width(clean_text(value))
    if not key:
        raise RowError(
            "missing_required", field_name, _("{field} is required").format(field=field_name)
        )
    if not KEY_OK.match(key):
        raise RowError(
            "invalid_value",
            field_name,
            _("{field} must be at most 64 characters with no spaces: {value}").format(
                field=field_name, value=value
            ),
        )
    return key


def json_object(value: Any) -> dict[str, Any]:
    """An exported ``custom_fields`` cell (a JSON object) back to its fields, as they were:
    not folded as text (a number stays a number, "a  b" keeps its two spaces), so an export
    imports back unchanged."""
    text = ("" if value is None else str(value)).replace("\x00", "").strip()
    if not text:
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise RowError("invalid_value", "custom_fields", _("not a JSON object")) from exc
    if not isinstance(data, dict):
        raise RowError("invalid_value", "custom_fields", _("not a JSON object"))
    return data


def present(raw: dict[str, Any]) -> dict[str, Any]:
    """Fields with a value in this row (blank cells leave stored values alone)."""
    return {k: v for k, v in raw.items() if v is not None and (not isinstance(v, str) or v.strip())}


def clean_customer(
    raw: dict[str, Any],
    custom: dict[str, Any],
    region: str,
    exported: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``custom``: custom fields from columns of their own, cleaned as text; ``exported``:
    those of an exported ``custom_fields`` cell, kept as they were (see :func:`json_object`),
    under the columns' values."""
    data = present(raw)
    try:
        values = validate_fields(data, region=region)
    except InvalidInput as exc:
        raise reject_from(exc) from exc
    cf = {k: v for k, v in (exported or {}).items() if v is not None and v != ""}
    cf.update((k, clean_text(v)) for k, v in custom.items() if clean_text(v))
    if cf:
        values["custom_fields"] = cf
    return values


def parse_tags(value: Any) -> tuple[str, ...]:
    """A tags cell (``vip, 重点；老客户|华南``) as the tag service cleans tags: sorted, no
    repeats; a tag over 64 characters rejects the row."""
    text = clean_text(value)
    if not text:
        return ()
    if text[0] == "[" and text[-1] == "]":
        text = _tag_array(text)
    try:
        return tuple(checked_tags(TAG_SEPARATORS.split(text)))
    except InvalidInput as exc:
        raise reject_from(exc, "tags") from exc


def _tag_array(text: str) -> str:
    """A JSON array of tags (a JSON Lines file's ``"tags": ["vip", "华南"]``, which reaches
    here as its JSON text) as a tags cell; any other text as it is. Split as text, it gave
    the tags ``["vip"`` and ``"华南"]``."""
    try:
        items = json.loads(text)
    except ValueError:
        return text
    if not isinstance(items, list) or not all(isinstance(i, str | int) for i in items):
        return text
    return ",".join(str(i) for i in items)


def parse_quantity(value: Any) -> int:
    return parse_int(value, "quantity", minimum=1, maximum=10**6)


def parse_currency(value: Any) -> str:
    cur = fold_width(clean_text(value)).upper()
    cur = {"RMB": "CNY", "人民币": "CNY", "元": "CNY"}.get(cur, cur)
    if not re.fullmatch(r"[A-Z]{3}", cur):
        raise InvalidInput(_("not a currency code: {value}").format(value=value), field="currency")
    return cur


def clean_interaction(raw: dict[str, Any], region: str) -> dict[str, Any]:
    data = present(raw)
    values: dict[str, Any] = {
        "customer_code": clean_key(data.get("customer_code"), "customer_code")
    }
    try:
        channel = clean_text(data.get("channel")).lower()
        channel = CHANNEL_SYNONYMS.get(channel, channel)
        if not channel:
            raise InvalidInput(_("channel is required"), field="channel", code="missing_required")
        if channel not in CHANNELS:
            raise InvalidInput(
                _("unknown channel: {value}").format(value=data.get("channel")), field="channel"
            )
        values["channel"] = channel
        if "occurred_at" not in data:
            raise InvalidInput(_("time is required"), field="occurred_at", code="missing_required")
        values["occurred_at"] = parse_datetime(data["occurred_at"], field="occurred_at")
        if "direction" in data:
            d = clean_text(data["direction"]).lower()
            if d not in DIRECTION_SYNONYMS:
                raise InvalidInput(
                    _("unknown direction: {value}").format(value=data["direction"]),
                    field="direction",
                )
            values["direction"] = DIRECTION_SYNONYMS[d]
        if "satisfaction" in data:
            values["satisfaction"] = parse_int(
                data["satisfaction"], "satisfaction", minimum=1, maximum=5
            )
        for name in ("operator", "subject", "notes", "outcome"):
            if name in data:
                values[name] = clean_text(data[name])
        if "follow_up" in data:
            # ``3d`` counts from the contact's own time, as ``interact log --follow-up`` does.
            values["follow_up"] = parse_due_cell(
                data["follow_up"], values["occurred_at"], field="follow_up"
            )
        if "follow_up_reason" in data:
            if "follow_up" not in data:
                raise InvalidInput(
                    _("a follow-up reason needs a follow-up date"),
                    field="follow_up",
                    code="missing_required",
                )
            values["follow_up_reason"] = clean_text(data["follow_up_reason"])
    except InvalidInput as exc:
        raise reject_from(exc) from exc
    return values


def _max_lengths(table: sa.Table) -> dict[str, int]:
    return {
        c.name: c.type.length
        for c in table.columns
        if getattr(c.type, "length", None) and c.name != "search_text"
    }


MAX_LEN = {kind: _max_lengths(t) for kind, t in TABLE.items()}
# An order names its product and category, stored in tables of their own: a longer name
# would be cut to fit there, and the next import, looking it up whole, would not find it.
MAX_LEN["orders"].update(
    product=Product.__table__.c.name.type.length,
    category=ProductCategory.__table__.c.name.type.length,
)
PUBLIC_NAME = {v: k for k, v in FIELD_COLUMNS.items()}


def check_lengths(kind: str, values: dict[str, Any]) -> None:
    limits = MAX_LEN[kind]
    for col, v in values.items():
        limit = limits.get(col)
        if limit and isinstance(v, str) and len(v) > limit:
            raise _too_long(col, limit)


def _too_long(column: str, limit: int) -> RowError:
    name = PUBLIC_NAME.get(column, column)
    return RowError(
        "invalid_value",
        name,
        _("{field} is longer than {n} characters").format(field=name, n=limit),
    )


# ----------------------------------------------------------------------------- orders, by column

_MISS = object()
"""A cell text not cleaned yet in this column."""
ABSENT = object()
"""A blank cell (None, empty or only spaces): the row says nothing about that field."""
_PLAIN_KEY = re.compile(r"[!-~]{1,64}").fullmatch
_PLAIN_UNMARKED_KEY = re.compile(r"(?!')[!-~]{1,64}").fullmatch
"""A key that is printable ASCII with no space: what :func:`clean_key` would return as is."""

CleanedRow = tuple[str, dict[str, Any]] | RowError
"""One line's result: its key and field values, or why it is refused."""


class OrderColumns:
    """Cleans the order lines of a batch one column at a time.

    Each column keeps a dictionary from cell text to cleaned value (``limit`` entries at most,
    so a column of distinct values costs bounded memory) and looks a whole batch's cells up
    in one comprehension; only texts not met before go through the parser. Failures are not
    remembered: the parser raises again for the next line with the same text, with the same
    reason. Cells that are not text (a workbook's dates, JSON numbers) are cleaned each time,
    since ``1``, ``1.0`` and ``True`` are equal as keys but clean differently.

    The result for each line is what cleaning that line alone, a cell at a time, gives
    (``present``, ``clean_key`` and the same parsers); a test holds the two to the same
    answers on random messy batches, first fault included."""

    # (field, stored name, parser, the fault of a blank cell where one is required), in the
    # order a row's faults are reported.
    SPEC: tuple[tuple[str, str, Callable[[Any], Any], Callable[[], RowError] | None], ...] = (
        ("date", "order_date", parse_date,
         lambda: RowError("missing_required", "date", _("date is required"))),
        ("amount", "amount", parse_money,
         lambda: RowError("missing_required", "amount", _("amount is required"))),
        ("quantity", "quantity", parse_quantity, None),
        ("product", "product", clean_text, None),
        ("category", "category", clean_text, None),
        ("channel", "channel", clean_text, None),
        ("status", "status", clean_text, None),
        ("currency", "currency", parse_currency, None),
    )  # fmt: skip

    def __init__(
        self, fields: dict[str, str], limit: int = 20_000, *, marked: bool = False
    ) -> None:
        self.fields = fields
        # A CSV or a workbook may carry an export's formula marks (``unmark``); JSON does not.
        self.marked = marked
        self.limit = limit
        self.caches: dict[str, dict[Any, Any]] = {}
        self.limits = MAX_LEN["orders"]

    def clean(self, rows: Sequence[dict[str, Any]]) -> list[CleanedRow]:
        n = len(rows)
        faults: dict[int, RowError] = {}
        too_long: dict[int, RowError] = {}
        blank: set[int] = set()  # lines with a blank cell in some mapped column
        key_field = KEY_FIELD["orders"]
        key_col = self.fields.get(key_field)
        keys = self._keys([r.get(key_col) for r in rows] if key_col else [None] * n,
                          key_field, faults)  # fmt: skip
        code_col = self.fields.get("customer_code")
        codes = self._keys([r.get(code_col) for r in rows] if code_col else [None] * n,
                           "customer_code", faults)  # fmt: skip
        names: list[str] = ["customer_code"]
        columns: list[list[Any]] = [codes]
        for field_name, stored, parse, required in self.SPEC:
            col = self.fields.get(field_name)
            if col is None:
                if required:
                    for i in range(n):
                        faults.setdefault(i, required())
                continue
            names.append(stored)
            columns.append(
                self._column(
                    field_name,
                    stored,
                    parse,
                    required,
                    [r.get(col) for r in rows],
                    faults,
                    too_long,
                    blank,
                )  # fmt: skip
            )
        # Most lines fill every mapped column: their dict is built by ``dict(zip())`` in C,
        # and only lines with a blank cell are built again without it.
        rows_cells = list(zip(*columns, strict=True))
        out: list[CleanedRow] = [
            (key, dict(zip(names, cells, strict=True)))
            for key, cells in zip(keys, rows_cells, strict=True)
        ]
        for i in blank:
            cells = rows_cells[i]
            out[i] = (keys[i], {k: v for k, v in zip(names, cells, strict=True) if v is not ABSENT})
        for i in faults.keys() | too_long.keys():
            out[i] = faults.get(i) or too_long[i]
        # A line that is not a JSON object is refused before anything else is said of it.
        for i, row in enumerate(rows):
            if INVALID in row:
                out[i] = invalid_line(row)
        return out

    def _keys(self, cells: list[Any], field_name: str, faults: dict[int, RowError]) -> list[Any]:
        # A marked key (``'-A1``) is not plain: it goes the slow way, unmarked.
        plain = _PLAIN_KEY if not self.marked else _PLAIN_UNMARKED_KEY
        out = [v if v.__class__ is str and plain(v) else _MISS for v in cells]
        for i in [i for i, v in enumerate(out) if v is _MISS]:
            try:
                cell = unmark(cells[i]) if self.marked else cells[i]
                out[i] = clean_key(cell, field_name)
            except RowError as err:
                faults.setdefault(i, err)
                out[i] = None
        return out

    def _column(
        self,
        field_name: str,
        stored: str,
        parse: Callable[[Any], Any],
        required: Callable[[], RowError] | None,
        cells: list[Any],
        faults: dict[int, RowError],
        too_long: dict[int, RowError],
        blank: set[int],
    ) -> list[Any]:
        # Blank cells are never remembered, so every one passes the loop below and is noted
        # in ``blank`` (which lines need a dict without that field).
        cache = self.caches.get(field_name)
        if cache is None or len(cache) >= self.limit:
            cache = self.caches[field_name] = {}
        get = cache.get
        out = [get(v, _MISS) if v.__class__ is str else _MISS for v in cells]
        limit = self.limits.get(stored)
        empty: list[int] = []
        for i in [i for i, v in enumerate(out) if v is _MISS]:
            value = cells[i]
            text = value.__class__ is str
            if text and (known := get(value, _MISS)) is not _MISS:
                out[i] = known  # first met earlier in this batch
                continue
            if value is None or (text and not value.strip()):
                out[i] = ABSENT
                empty.append(i)
                continue
            try:
                result = parse(unmark(value) if self.marked else value)
            except InvalidInput as exc:
                faults.setdefault(i, reject_from(exc))
                out[i] = ABSENT
                continue
            out[i] = result
            if limit and isinstance(result, str) and len(result) > limit:
                too_long.setdefault(i, _too_long(stored, limit))
            elif text:
                cache[value] = result
        blank.update(empty)
        if required:
            for i in empty:
                faults.setdefault(i, required())
        return out
