"""The customer filter language, used everywhere a set of customers is chosen.

``province:广东 kind:enterprise orders>=3 last_order<90d tag:vip``

Grammar (terms side by side are ANDed; ``AND`` may also be written)::

    expr    := and_expr ("OR" and_expr)*
    and_expr:= unary (["AND"] unary)*
    unary   := ("-" | "NOT") unary | "(" expr ")" | term
    term    := FIELD OP VALUE          OP := : = != > >= < <=
    VALUE   := bare text (up to a space or ")") | "quoted text" (\\" and \\\\ escaped)

Meanings, chosen to read the way a CRM user says them:

* Text fields (``province``, ``city``, ``industry`` …): ``:`` and ``=`` match the value
  exactly (case-insensitively for Latin text); ``*`` is a wildcard (``code:C00*``).
  ``name:`` is a substring match (``name:伟`` finds 张伟明); ``name=`` is exact.
  ``province:`` accepts every spelling of a province (广东 = 广东省 = 廣東 = 粤 = Guangdong)
  and matches every stored spelling of it, as a breakdown by province folds them.
* Numbers (``orders``, ``spent``, ``points``): all six comparisons; ``:`` is ``=``.
* Dates (``last_order``, ``first_order``, ``registered``, ``birthday``) take either an
  absolute date (``2024-05-01``, ``2024-05`` for the month, ``2024`` for the year) compared
  as dates (the year also ``2024年``), or an AGE: ``90d``, ``12w``, ``6m``, ``1y``, or in
  Chinese ``90天``/``90日``,
  ``12周``/``12星期``, ``6个月``, ``1年``. ``6月`` alone is refused: it is June, not six
  months, and reading it as an age would quietly match other customers. An age compares
  how long ago the date was: ``last_order<90d`` means "last order less than 90 days ago"
  (bought recently), ``last_order>1y`` means "more than a year ago" (lapsed),
  ``birthday>=30y`` means "aged 30 or more", and ``last_order:90d`` means "within the last
  90 days" (same as ``<=``).
  A customer with no such date (never ordered) matches no date comparison; ``orders=0``
  finds those.
* ``tag:vip`` — has the tag; ``saved:NAME`` — in the saved segment NAME.
* ``-term`` / ``NOT term`` negate, and ``!=`` is the negation of ``=``: both include
  customers whose field is empty (``-province:广东`` includes those with no province).

Two entry points: :func:`parse_filter` (text → AST, errors point at the bad token) and
:func:`customer_filter` (text → a SQLAlchemy condition over ``customers``).
:func:`format_filter` prints an AST back (``parse(format(ast)) == ast``) and
:func:`describe_filter` explains one in words for the UI.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Union

import sqlalchemy as sa

from tricrm_tui.db.text import unicode_lower
from tricrm_tui.i18n import _
from tricrm_tui.labels import N_
from tricrm_tui.models import Customer, CustomerTag
from tricrm_tui.services.errors import InvalidInput
from tricrm_tui.services.normalize import KIND_SYNONYMS
from tricrm_tui.services.regions import province_spellings
from tricrm_tui.services.timespec import PERIOD_UNITS

C = Customer.__table__.c
T = CustomerTag.__table__.c

OPS = (">=", "<=", "!=", ":", "=", ">", "<")
TEXT_KINDS = ("text", "name", "kind", "size", "province", "tag", "saved")
"""Kinds of field compared only for (in)equality."""
EQUALITY_OPS = (":", "=", "!=")

# field → (kind of value, column name or None)
FIELDS: dict[str, tuple[str, str | None]] = {
    "code": ("text", "code"),
    "name": ("name", "name"),
    "kind": ("kind", "kind"),
    "industry": ("text", "industry"),
    "size": ("size", None),
    "province": ("province", "province"),
    "city": ("text", "city"),
    "region": ("text", "region"),
    "owner": ("text", "owner"),
    "source": ("text", "source_channel"),
    "segment": ("text", "rfm_segment"),
    "tier": ("text", "value_tier"),
    "lifecycle": ("text", "lifecycle"),
    "level": ("text", "member_level"),
    "frequency": ("text", "frequency_band"),
    "category": ("text", "favourite_category"),
    "channel": ("text", "preferred_channel"),
    "aov": ("text", "aov_band"),
    "orders": ("int", "order_count"),
    "points": ("int", "points_balance"),
    "spent": ("money", "total_spent"),
    "last_order": ("date", "last_order_on"),
    "first_order": ("date", "first_order_on"),
    "registered": ("date", "registered_on"),
    "birthday": ("date", "birthday"),
    "tag": ("tag", None),
    "saved": ("saved", None),
}

SIZE_CLASS: sa.ColumnElement[str] = sa.case(
    (C.kind == "individual", sa.literal("individual")), else_=C.size_band
)
"""A customer's size class: an enterprise's size band, ``individual`` for a person (whose
``size_band`` may still hold what it had as an enterprise). ``size:`` filters on it and
``report breakdown --by size`` groups by it, so the two always agree."""

# Chinese field names operators type naturally.
FIELD_ALIASES = {
    "编号": "code",
    "客户编号": "code",
    "名称": "name",
    "姓名": "name",
    "类型": "kind",
    "行业": "industry",
    "规模": "size",
    "省份": "province",
    "省": "province",
    "城市": "city",
    "区域": "region",
    "地区": "region",
    "负责人": "owner",
    "来源": "source",
    "标签": "tag",
    "分群": "segment",
    "等级": "level",
    "订单数": "orders",
    "消费": "spent",
    "积分": "points",
    "生日": "birthday",
    "注册": "registered",
    "最近下单": "last_order",
    "首次下单": "first_order",
    "company": "industry",
    "type": "kind",
    "state": "province",
    "tags": "tag",
    "segment_name": "saved",
}

AGE_UNITS: dict[str, str] = {
    **{word: unit for word, unit in PERIOD_UNITS.items() if unit in "dw"},
    "m": "m",
    "个月": "m",
    "y": "y",
    "年": "y",
}
"""How an age's unit is written → ``d``, ``w``, ``m`` (calendar months) or ``y``: the days and
weeks a follow-up period reads (``天``, ``周``, ``星期`` …), and months and years."""
_AGE = re.compile(r"(\d{1,5})\s*(" + "|".join(AGE_UNITS) + ")", re.IGNORECASE)
_MONTH_OF_YEAR = re.compile(r"(0?[1-9]|1[0-2])\s*月")
_YEAR = re.compile(r"(\d{4})\s*年")
"""``2024年``: the year 2024 as Chinese writes it, as ``2024`` is (no age is 1000 years)."""
_DAY = re.compile(r"^(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?$")
_IDENT = re.compile(r"[^\W\d][\w]*", re.UNICODE)
_BARE_STOP = set(' \t\n\r()"')
"""Characters that end a bare value; so does any other whitespace (a full-width space
typed by a Chinese input method, a no-break space pasted from a web page)."""

INT_LIMIT = 2**31 - 1
"""The largest whole number a count column holds (PostgreSQL ``integer``)."""
MONEY_LIMIT = Decimal(10) ** 12
"""Amounts are NUMERIC(14, 2): at most twelve digits before the point."""
AGE_LIMITS = {"d": 366 * 200, "w": 53 * 200, "m": 12 * 200, "y": 200}
"""Ages go back at most 200 years: further back than any customer's date, and far enough
to stay inside the calendar Python's dates can hold."""


def _bare_end(expr: str, start: int) -> int:
    """Where a bare value or word starting at ``start`` ends."""
    end = start
    while end < len(expr) and expr[end] not in _BARE_STOP and not expr[end].isspace():
        end += 1
    return end


# --- AST -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    field: str
    op: str
    value: str


@dataclass(frozen=True)
class Not:
    operand: FilterExpr


@dataclass(frozen=True)
class And:
    items: tuple[FilterExpr, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[FilterExpr, ...]


FilterExpr = Union[Term, Not, And, Or]  # noqa: UP007  (a runtime alias used in isinstance-free code)


class FilterError(InvalidInput):
    """A filter expression that does not parse, with where the problem is (0-based)."""

    def __init__(self, message: str, expr: str, position: int, length: int = 1) -> None:
        self.expr = expr
        self.position = position
        self.length = max(1, length)
        self.reason = message
        super().__init__(
            _("{reason} at column {column}").format(reason=message, column=position + 1)
            + "\n  "
            + expr
            + "\n  "
            + caret_line(expr, position, self.length),
            field="where",
            code="invalid_filter",
        )


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def caret_line(expr: str, position: int, length: int = 1) -> str:
    """Spaces then ``^^^`` under ``expr[position:position+length]``, CJK-width aware."""
    pad = _width(expr[:position])
    return " " * pad + "^" * max(1, _width(expr[position : position + length]))


# --- lexer -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tok:
    kind: str  # "(" ")" "OR" "AND" "NOT" "-" "term" "end"
    pos: int
    length: int = 1
    field: str = ""
    op: str = ""
    value: str = ""
    value_pos: int = 0
    value_len: int = 0


_FULL_WIDTH = {"：": ":", "（": "(", "）": ")", "＞": ">", "＜": "<", "＝": "=", "！": "!"}


def ascii_syntax(expr: str) -> str:
    """Chinese input methods type ：（）＞＜＝！ and “ ”: read them as the ASCII syntax.

    One character for one, so positions in error messages stay right; text inside quotes
    is left alone."""
    out: list[str] = []
    quoted = False
    escaped = False
    for ch in expr:
        if quoted:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch in ('"', "”", "“"):
                quoted = False
                ch = '"'
        elif ch in ('"', "“", "”"):
            quoted = True
            ch = '"'
        else:
            ch = _FULL_WIDTH.get(ch, ch)
        out.append(ch)
    return "".join(out)


def _tokens(expr: str) -> list[_Tok]:
    out: list[_Tok] = []
    i, n = 0, len(expr)
    while i < n:
        ch = expr[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "()":
            out.append(_Tok(ch, i))
            i += 1
            continue
        if ch == "-" and i + 1 < n and not expr[i + 1].isspace():
            out.append(_Tok("-", i))
            i += 1
            continue
        m = _IDENT.match(expr, i)
        if not m:
            end = _bare_end(expr, i)
            raise FilterError(
                _("expected a FIELD:VALUE term (e.g. province:广东)"), expr, i, max(1, end - i)
            )
        word, j = m.group(0), m.end()
        op = next((o for o in OPS if expr.startswith(o, j)), None)
        if op is None:
            if word.upper() in ("OR", "AND", "NOT") and word == word.upper():
                out.append(_Tok(word, i, len(word)))
                i = j
                continue
            end = _bare_end(expr, j)
            raise FilterError(
                _("expected a FIELD:VALUE term (e.g. province:广东)"), expr, i, end - i
            )
        k = j + len(op)
        if k < n and expr[k] == '"':
            buf: list[str] = []
            p = k + 1
            while True:
                if p >= n:
                    raise FilterError(_("unclosed quote"), expr, k, n - k)
                c = expr[p]
                if c == "\\" and p + 1 < n and expr[p + 1] in '"\\“”':
                    buf.append(expr[p + 1])
                    p += 2
                elif c == '"':
                    p += 1
                    break
                else:
                    buf.append(c)
                    p += 1
            value, end = "".join(buf), p
        else:
            end = _bare_end(expr, k)
            value = expr[k:end]
            if not value:
                raise FilterError(
                    _("missing value after {field}{op}").format(field=word, op=op), expr, i, k - i
                )
        out.append(
            _Tok("term", i, end - i, word, op, value, value_pos=k, value_len=max(1, end - k))
        )
        i = end
    out.append(_Tok("end", n))
    return out


# --- parser ----------------------------------------------------------------------------


class _Parser:
    def __init__(self, expr: str) -> None:
        self.expr = expr = ascii_syntax(expr)
        self.toks = _tokens(expr)
        self.i = 0

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def fail(self, message: str, tok: _Tok) -> FilterError:
        return FilterError(message, self.expr, tok.pos, tok.length)

    def parse(self) -> FilterExpr:
        if self.peek().kind == "end":
            raise self.fail(_("the filter is empty"), self.peek())
        node = self.or_expr()
        tok = self.peek()
        if tok.kind != "end":
            if tok.kind == ")":
                raise self.fail(_("unmatched closing parenthesis"), tok)
            raise self.fail(_("unexpected {token}").format(token=tok.kind), tok)
        return node

    def or_expr(self) -> FilterExpr:
        items = [self.and_expr()]
        while self.peek().kind == "OR":
            self.take()
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(tuple(_flatten(items, Or)))

    def and_expr(self) -> FilterExpr:
        items = [self.unary()]
        while self.peek().kind in ("term", "(", "-", "NOT", "AND"):
            if self.peek().kind == "AND":
                self.take()
            items.append(self.unary())
        return items[0] if len(items) == 1 else And(tuple(_flatten(items, And)))

    def unary(self) -> FilterExpr:
        tok = self.take()
        if tok.kind in ("-", "NOT"):
            return Not(self.unary())
        if tok.kind == "(":
            if self.peek().kind == ")":
                raise self.fail(_("empty parentheses"), self.peek())
            node = self.or_expr()
            close = self.peek()
            if close.kind != ")":
                raise FilterError(_("missing closing parenthesis"), self.expr, tok.pos, 1)
            self.take()
            return node
        if tok.kind == "term":
            return _check_term(self.expr, tok)
        if tok.kind == "end":
            raise self.fail(_("the filter ends too early"), tok)
        raise self.fail(_("unexpected {token}").format(token=tok.kind), tok)


def _flatten(items: list[FilterExpr], kind: type[And] | type[Or]) -> list[FilterExpr]:
    """``a (b c)`` parses to one And of three: nesting the same operator adds nothing."""
    out: list[FilterExpr] = []
    for item in items:
        if isinstance(item, And | Or) and isinstance(item, kind):
            out.extend(item.items)
        else:
            out.append(item)
    return out


def _field_suggestion(word: str) -> str:
    from rapidfuzz import process

    best = process.extractOne(word.lower(), list(FIELDS))
    return best[0] if best and best[1] >= 60 else ""


def _check_term(expr: str, tok: _Tok) -> Term:
    word = tok.field
    field = word.lower() if word.lower() in FIELDS else FIELD_ALIASES.get(word.lower(), "")
    if not field:
        hint = _field_suggestion(word)
        msg = _("unknown field {field}").format(field=word)
        if hint:
            msg += " " + _("(did you mean {field}?)").format(field=hint)
        raise FilterError(msg, expr, tok.pos, len(word))
    kind = FIELDS[field][0]
    op_pos = tok.pos + len(word)
    if kind in TEXT_KINDS and tok.op not in EQUALITY_OPS:
        raise FilterError(
            _("{field} can only be compared with : = or !=").format(field=field),
            expr,
            op_pos,
            len(tok.op),
        )
    try:
        _check_value(field, kind, tok.value)
    except ValueError as exc:
        raise FilterError(str(exc), expr, tok.value_pos, tok.value_len) from None
    return Term(field, tok.op, tok.value)


def _check_value(field: str, kind: str, value: str) -> None:
    if kind == "int":
        if not re.fullmatch(r"-?\d+", value):
            raise ValueError(_("{field} needs a whole number").format(field=field))
        if abs(int(value)) > INT_LIMIT:
            raise ValueError(
                _("{field} is out of range (at most {limit})").format(field=field, limit=INT_LIMIT)
            )
    elif kind == "money":
        _money(field, value)
    elif kind == "date":
        _date_value(field, value)
    elif kind == "kind":
        if value.lower() not in KIND_SYNONYMS:
            raise ValueError(_("kind is individual or enterprise (个人/企业)"))
    elif not value.strip():
        raise ValueError(_("{field} needs a value").format(field=field))


def _money(field: str, value: str) -> Decimal:
    text = value.replace(",", "").lstrip("¥￥").removesuffix("元")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(
            _("{field} needs an amount such as 1000 or 99.50").format(field=field)
        ) from None
    if not amount.is_finite():
        raise ValueError(_("{field} needs an amount such as 1000 or 99.50").format(field=field))
    # Read by its exponent first, never through arithmetic: abs(1E1000000) overflowed the
    # decimal context, and 1e-20000 passed a size check that PostgreSQL's numeric refused.
    if amount and amount.adjusted() >= MONEY_LIMIT.adjusted():
        amount = MONEY_LIMIT  # refused just below, as any amount past the limit
    elif amount and amount.normalize().as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError(_("{field} needs an amount such as 1000 or 99.50").format(field=field))
    if abs(amount) >= MONEY_LIMIT:
        raise ValueError(
            _("{field} is out of range (at most {limit})").format(
                field=field, limit=f"{MONEY_LIMIT - 1:,}"
            )
        )
    return amount


@dataclass(frozen=True)
class _DateValue:
    """An age (``90d``: n=90, unit="d") or a calendar period (a day, month or year)."""

    age: tuple[int, str] | None = None
    period: tuple[dt.date, dt.date] | None = None


def _date_value(field: str, value: str) -> _DateValue:
    if m := _YEAR.fullmatch(value):
        value = m.group(1)
    m = _AGE.fullmatch(value)
    if m:
        n, unit = int(m.group(1)), AGE_UNITS[m.group(2).lower()]
        if n > AGE_LIMITS[unit]:
            raise ValueError(_("{field}: an age is at most 200 years").format(field=field))
        return _DateValue(age=(n, unit))
    m = _DAY.match(value)
    if m:
        y, mo, d = m.group(1), m.group(2), m.group(3)
        try:
            if d is not None:
                day = dt.date(int(y), int(mo), int(d))
                return _DateValue(period=(day, day))
            if mo is not None:
                first = dt.date(int(y), int(mo), 1)
                return _DateValue(period=(first, _add_months(first, 1) - dt.timedelta(days=1)))
            return _DateValue(period=(dt.date(int(y), 1, 1), dt.date(int(y), 12, 31)))
        except ValueError:
            pass
    m = _MONTH_OF_YEAR.fullmatch(value)
    if m:
        raise ValueError(
            _("{field}: {value} is a month of the year; write {n}个月 or {n}m for an age").format(
                field=field, value=value, n=int(m.group(1))
            )
        )
    raise ValueError(
        _(
            "{field} needs a date (2024-05-01, 2024-05, 2024) or an age (90d, 12w, 6m, 1y, 90天)"
        ).format(field=field)
    )


def _add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months, the day clamped to the month's end (Mar 31 − 1 month = Feb 28/29)."""
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, d))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover


def _ago(today: dt.date, n: int, unit: str) -> dt.date:
    if unit == "d":
        return today - dt.timedelta(days=n)
    if unit == "w":
        return today - dt.timedelta(weeks=n)
    if unit == "m":
        return _add_months(today, -n)
    return _add_months(today, -12 * n)


def parse_filter(expr: str) -> FilterExpr:
    """Parse a filter expression; raises :class:`FilterError` (an ``InvalidInput``) whose
    message names the problem, its column and a caret line under the bad token."""
    return _Parser(expr).parse()


# --- printing --------------------------------------------------------------------------


_READ_AS_SYNTAX = set(_FULL_WIDTH) | {"“", "”"}
"""Characters :func:`ascii_syntax` reads as syntax outside quotes (a full-width colon is a
colon): a value holding one is quoted, or it would come back as another value."""


def _quote(value: str) -> str:
    if value and not any(ch in _BARE_STOP or ch in _READ_AS_SYNTAX or ch.isspace() for ch in value):
        return value
    # Inside quotes “ and ” would end the value as " does: all three are escaped.
    escaped = value.replace("\\", "\\\\")
    for mark in ('"', "“", "”"):
        escaped = escaped.replace(mark, "\\" + mark)
    return '"' + escaped + '"'


def format_filter(node: FilterExpr) -> str:
    """The canonical text of an AST (parsing it gives the same AST back)."""
    if isinstance(node, Term):
        return f"{node.field}{node.op}{_quote(node.value)}"
    if isinstance(node, Not):
        inner = node.operand
        if isinstance(inner, And | Or):
            return "-(" + format_filter(inner) + ")"
        return "-" + format_filter(inner)
    if isinstance(node, And):
        return " ".join(
            "(" + format_filter(i) + ")" if isinstance(i, Or) else format_filter(i)
            for i in node.items
        )
    return " OR ".join(format_filter(i) for i in node.items)


# --- SQL -------------------------------------------------------------------------------

SegmentResolver = Callable[[str], str]
"""Segment name → its saved expression (raises NotFound); see services.segments."""


def _like(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


def _folded_match(
    col: sa.ColumnElement, value: str, like: str | None = None
) -> sa.ColumnElement[bool]:
    """``col`` equal to ``value`` (or, given ``like``, matching that LIKE pattern built from
    it), both sides lower-cased by one function of the backend.

    An ASCII value keeps the built-in ``lower()``, several times faster on SQLite than
    calling into Python for each row. Any other value goes through
    :class:`~tricrm_tui.db.text.unicode_lower` on both sides: lower-casing the value in
    Python and the column in the database disagreed where languages do (Greek final Σ,
    Turkish İ), and PostgreSQL missed stored text typed exactly."""
    if value.isascii():
        folded, target = sa.func.lower(col), (like if like is not None else value).lower()
        return folded.like(target, escape="\\") if like is not None else folded == target
    other = unicode_lower(sa.literal(like if like is not None else value))
    if like is not None:
        return unicode_lower(col).like(other, escape="\\")
    return unicode_lower(col) == other


def _text_eq(col: sa.ColumnElement, value: str) -> sa.ColumnElement[bool]:
    """Exact, case-insensitive; ``*`` a wildcard (LIKE over both sides lower-cased, as
    PostgreSQL's LIKE is case-sensitive and SQLite's is not)."""
    return _folded_match(col, value, _like(value) if "*" in value else None)


def _term_sql(
    term: Term, today: dt.date, resolve: SegmentResolver | None, seen: tuple[str, ...]
) -> sa.ColumnElement[bool]:
    kind, column = FIELDS[term.field]
    if term.op == "!=":
        return sa.not_(_term_sql(Term(term.field, "=", term.value), today, resolve, seen))
    if kind == "tag":
        return sa.exists().where(T.customer_id == C.id, _text_eq(T.tag, term.value.strip()))
    if kind == "saved":
        return _saved_sql(term.value, today, resolve, seen)
    if kind == "size":
        return sa.and_(SIZE_CLASS.is_not(None), _text_eq(SIZE_CLASS, term.value))
    col = C[column]
    if kind == "name":
        if term.op == ":":
            return _folded_match(col, term.value, "%" + _like(term.value) + "%")
        return _text_eq(col, term.value)
    if kind == "kind":
        return col == KIND_SYNONYMS[term.value.lower()]
    if kind == "province":
        spellings = None if "*" in term.value else province_spellings(term.value)
        if spellings is None:
            return sa.and_(col.is_not(None), _text_eq(col, term.value))
        # Every stored text canonical_province() folds into this province: what breakdowns
        # count under it. The spellings are ASCII or Chinese, so the built-in lower() serves.
        return sa.and_(col.is_not(None), sa.func.lower(col).in_(spellings))
    if kind == "text":
        return sa.and_(col.is_not(None), _text_eq(col, term.value))
    op = "=" if term.op == ":" else term.op
    if kind in ("int", "money"):
        value: object = int(term.value) if kind == "int" else _money(term.field, term.value)
        return _compare(col, op, value)
    date_value = _date_value(term.field, term.value)
    if date_value.age is not None:
        n, unit = date_value.age
        cutoff = _ago(today, n, unit)
        # An age compares "how long ago": younger than N ⇔ the date is after the cutoff.
        flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "="}[op]
        if term.op == ":":
            flipped = ">="
        return sa.and_(col.is_not(None), _compare(col, flipped, cutoff))
    assert date_value.period is not None
    first, last = date_value.period
    cond = {
        "=": sa.and_(col >= first, col <= last),
        "<": col < first,
        "<=": col <= last,
        ">": col > last,
        ">=": col >= first,
    }[op]
    return sa.and_(col.is_not(None), cond)


def _compare(col: sa.ColumnElement, op: str, value: object) -> sa.ColumnElement[bool]:
    return {
        "=": col == value,
        "<": col < value,
        "<=": col <= value,
        ">": col > value,
        ">=": col >= value,
    }[op]


def _saved_sql(
    name: str, today: dt.date, resolve: SegmentResolver | None, seen: tuple[str, ...]
) -> sa.ColumnElement[bool]:
    if resolve is None:
        raise InvalidInput(
            _("saved:{name} needs the database; use segments.condition_for").format(name=name),
            field="where",
            code="invalid_filter",
        )
    if name in seen:
        raise InvalidInput(
            _("segment {name} refers to itself ({chain})").format(
                name=name, chain=" → ".join((*seen, name))
            ),
            field="where",
            code="invalid_filter",
        )
    inner = parse_filter(resolve(name))
    return _to_sql(inner, today, resolve, (*seen, name))


def _to_sql(
    node: FilterExpr, today: dt.date, resolve: SegmentResolver | None, seen: tuple[str, ...]
) -> sa.ColumnElement[bool]:
    if isinstance(node, Term):
        return _term_sql(node, today, resolve, seen)
    if isinstance(node, Not):
        return sa.not_(_to_sql(node.operand, today, resolve, seen))
    parts = [_to_sql(i, today, resolve, seen) for i in node.items]
    return sa.and_(*parts) if isinstance(node, And) else sa.or_(*parts)


def filter_condition(
    node: FilterExpr,
    *,
    today: dt.date,
    resolve: SegmentResolver | None = None,
    seen: tuple[str, ...] = (),
) -> sa.ColumnElement[bool]:
    """The SQL condition for an already-parsed expression."""
    return _to_sql(node, today, None if resolve is None else _budgeted(resolve), seen)


MAX_SEGMENT_EXPANSIONS = 500
"""How many ``saved:`` terms one condition may expand, nested ones included. Each expansion
copies the segment's whole condition into the SQL, so segments that each name the one
below twice double it at every level (14 levels: 16k copies and seconds of work); real
nesting stays in the tens."""


def _budgeted(resolve: SegmentResolver) -> SegmentResolver:
    """``resolve``, refusing once a condition has expanded MAX_SEGMENT_EXPANSIONS segments."""
    used = 0

    def counted(name: str) -> str:
        nonlocal used
        used += 1
        if used > MAX_SEGMENT_EXPANSIONS:
            raise InvalidInput(
                _(
                    "saved segments nest too deeply here: more than {n} are expanded "
                    "(the last was {name}); name each segment once per level"
                ).format(n=MAX_SEGMENT_EXPANSIONS, name=name),
                field="where",
                code="invalid_filter",
            )
        return resolve(name)

    return counted


def customer_filter(
    expr: str, *, today: dt.date, resolve: SegmentResolver | None = None
) -> sa.ColumnElement[bool]:
    """A WHERE condition over ``customers`` for ``expr``.

    ``today`` anchors ages (``last_order<90d``); pass ``ctx.today()``. ``saved:NAME`` terms
    need ``resolve`` (``services.segments.condition_for`` supplies it).
    """
    return filter_condition(parse_filter(expr), today=today, resolve=resolve)


# --- explaining ------------------------------------------------------------------------

_AGE_UNITS = {"d": N_("days"), "w": N_("weeks"), "m": N_("months"), "y": N_("years")}


# Filter field → the key of its display label in tricrm_tui.labels.FIELD_LABELS.
_LABEL_KEYS = {
    "orders": "order_count",
    "spent": "total_spent",
    "segment": "rfm_segment",
    "tier": "value_tier",
    "level": "member_level",
    "frequency": "frequency_band",
    "category": "favourite_category",
    "channel": "preferred_channel",
    "aov": "aov_band",
}


def _field_words(field: str) -> str:
    """The field's display label, lower-cased in English to sit inside a sentence."""
    from tricrm_tui.i18n import language
    from tricrm_tui.labels import field_label

    label = field_label(_LABEL_KEYS.get(field, field))
    return label.lower() if language() == "en" else label


def _describe_term(term: Term, today: dt.date | None) -> str:
    kind = FIELDS[term.field][0]
    field = _field_words(term.field)
    value = term.value
    if kind == "tag":
        return (_("not tagged {tag}") if term.op == "!=" else _("tagged {tag}")).format(tag=value)
    if kind == "saved":
        text = _("not in segment {name}") if term.op == "!=" else _("in segment {name}")
        return text.format(name=value)
    if kind == "name" and term.op == ":":
        return _("name contains {value}").format(value=value)
    if kind == "kind":
        value = KIND_SYNONYMS[value.lower()]
    if kind == "date":
        age = _date_value(term.field, value).age
        if age is not None:
            n, unit = age
            span = f"{n} {_(_AGE_UNITS[unit])}"
            phrase = {
                ":": _("{field} within the last {span}"),
                "<": _("{field} less than {span} ago"),
                "<=": _("{field} at most {span} ago"),
                ">": _("{field} more than {span} ago"),
                ">=": _("{field} at least {span} ago"),
                "=": _("{field} exactly {span} ago"),
                "!=": _("{field} not exactly {span} ago"),
            }[term.op].format(field=field, span=span)
            if today is not None:
                phrase += " (" + _("cutoff {date}").format(date=_ago(today, n, unit)) + ")"
            return phrase
    words = {
        ":": _("{field} is {value}"),
        "=": _("{field} is {value}"),
        "!=": _("{field} is not {value}"),
        ">": _("{field} above {value}"),
        ">=": _("{field} at least {value}"),
        "<": _("{field} below {value}"),
        "<=": _("{field} at most {value}"),
    }
    if kind == "date":
        words.update(
            {
                ">": _("{field} after {value}"),
                ">=": _("{field} on or after {value}"),
                "<": _("{field} before {value}"),
                "<=": _("{field} on or before {value}"),
            }
        )
    return words[term.op].format(field=field, value=value)


def describe_filter(expr: str | FilterExpr, *, today: dt.date | None = None) -> str:
    """The expression in words, for the UI: ``province is 广东 and tagged vip``."""
    node = parse_filter(expr) if isinstance(expr, str) else expr

    def walk(n: FilterExpr, nested: bool) -> str:
        if isinstance(n, Term):
            return _describe_term(n, today)
        if isinstance(n, Not):
            return _("not ({inner})").format(inner=walk(n.operand, False))
        joiner = _(" and ") if isinstance(n, And) else _(" or ")
        text = joiner.join(walk(i, True) for i in n.items)
        return f"({text})" if nested else text

    return walk(node, False)


def _band_values(labels: dict[str, str]) -> str:
    """The stored band names a filter matches, each with its display name outside English
    (``regular（经常购买）``): operators read the translation but type the stored name."""
    from tricrm_tui.i18n import language

    if language() == "en":
        return ", ".join(labels)
    return "、".join(f"{code}（{_(msgid)}）" for code, msgid in labels.items())


def filter_help() -> str:
    """The short reference the CLI and the TUI filter bar show."""
    from tricrm_tui.labels import AOV_BAND_LABELS, FREQUENCY_BAND_LABELS

    bands = _("Bands: frequency:{frequency}; aov:{aov}.").format(
        frequency=_band_values(FREQUENCY_BAND_LABELS), aov=_band_values(AOV_BAND_LABELS)
    )
    text = _(
        "Terms side by side must all hold; OR, NOT or -term, and (…) combine them. "
        "Fields: {fields}. Text: field:value (* wildcard; name: is a substring). "
        "Numbers: orders>=3, spent>1000. Dates: registered>=2024-01-01, or an age: "
        "last_order<90d = last order less than 90 days ago, last_order>1y = more than a "
        "year ago (d w m y, or 天 周 个月 年: last_order<90天). tag:vip, saved:SEGMENT. "
        'Quote values with spaces: city:"深圳 南山".'
    ).format(fields=", ".join(FIELDS))
    return f"{text} {bands}"
