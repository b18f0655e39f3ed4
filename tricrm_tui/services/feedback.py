"""Feedback: complaints handled as tickets with an SLA, and CSAT/NPS survey answers.

Complaints move ``open → in_progress → resolved → closed`` (a resolved ticket may be reopened
to ``in_progress``); resolving requires resolution notes, so the record says what was done.
The SLA due time is set when the complaint is logged, from the hours for its severity
(``feedback.toml`` in the config folder may override the defaults below).

Survey scores are summarised the standard way:

* CSAT (1–5): the share of satisfied answers (4 or 5) among all answers, in percent, as
  popularised by the American Customer Satisfaction Index practice; the mean is shown too.
* NPS (0–10): percent promoters (9–10) minus percent detractors (0–6), Reichheld, "The One
  Number You Need to Grow", HBR 2003. Passives (7–8) count in the base only.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tricrm_tui.i18n import _
from tricrm_tui.models import Customer, Feedback, Order, Touchpoint
from tricrm_tui.services import audit
from tricrm_tui.services.config_files import read_toml
from tricrm_tui.services.context import ServiceContext
from tricrm_tui.services.customers import customer_id_for
from tricrm_tui.services.errors import InvalidInput, NotFound
from tricrm_tui.services.normalize import clean_text, fold_width, parse_date
from tricrm_tui.services.paging import Page, clamp_limit

F = Feedback.__table__.c
C = Customer.__table__.c
O = Order.__table__.c  # noqa: E741
TP = Touchpoint.__table__.c

SEVERITIES = ("low", "medium", "high", "critical")
DEFAULT_SLA_HOURS = {"critical": 4, "high": 24, "medium": 72, "low": 168}
STATUSES = ("open", "in_progress", "resolved", "closed")
OPEN_STATUSES = ("open", "in_progress")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("in_progress", "resolved"),
    "in_progress": ("resolved",),
    "resolved": ("closed", "in_progress"),
    "closed": (),
}
SURVEY_KINDS = {"csat": (1, 5), "nps": (0, 10)}
SUMMARY_GROUPS = ("touchpoint", "segment", "tier", "month")


def sla_hours() -> dict[str, int]:
    """Hours to resolve by severity: the defaults, overridden by ``[sla_hours]`` in
    ``feedback.toml`` in the config folder."""
    hours = dict(DEFAULT_SLA_HOURS)
    data = read_toml("feedback.toml", field="sla_hours")
    for sev, value in (data.get("sla_hours") or {}).items():
        if sev in hours and isinstance(value, int | float) and value > 0:
            hours[sev] = int(value)
    return hours


@dataclass(frozen=True)
class ComplaintRecord:
    id: int
    customer_code: str
    customer_name: str
    category: str | None
    severity: str
    owner: str | None
    status: str
    notes: str | None
    resolution: str | None
    sla_due_at: dt.datetime | None
    overdue: bool
    touchpoint: str | None
    order_no: str | None
    created_at: dt.datetime
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None


@dataclass(frozen=True)
class SurveyRecord:
    id: int
    customer_code: str
    kind: str
    score: int
    touchpoint: str | None
    order_no: str | None
    comment: str | None
    answered_at: dt.datetime


def _select_feedback() -> sa.Select:
    return (
        sa.select(
            Feedback.__table__,
            C.code.label("customer_code"),
            C.name.label("customer_name"),
            TP.name.label("touchpoint_name"),
            O.order_no.label("order_no"),
        )
        .join(Customer.__table__, C.id == F.customer_id)
        .outerjoin(Touchpoint.__table__, TP.id == F.touchpoint_id)
        .outerjoin(Order.__table__, O.id == F.order_id)
    )


def _page(
    ctx: ServiceContext,
    conds: list[sa.ColumnElement[bool]],
    order: list[Any],
    limit: int,
    offset: int,
) -> tuple[list[Any], int]:
    """One page of feedback rows (with customer, touchpoint and order) and the total."""
    with ctx.session() as s:
        total = s.execute(
            sa.select(sa.func.count())
            .select_from(Feedback.__table__)
            .join(Customer.__table__, C.id == F.customer_id)
            .where(*conds)
        ).scalar_one()
        rows = s.execute(
            _select_feedback().where(*conds).order_by(*order).limit(limit).offset(offset)
        ).all()
    return list(rows), total


def _complaint(row: Any, now: dt.datetime) -> ComplaintRecord:
    due = row.sla_due_at
    return ComplaintRecord(
        id=row.id,
        customer_code=row.customer_code,
        customer_name=row.customer_name,
        category=row.category,
        severity=row.severity,
        owner=row.owner,
        status=row.status,
        notes=row.comment,
        resolution=row.resolution,
        sla_due_at=due,
        overdue=bool(due is not None and row.status in OPEN_STATUSES and due < now),
        touchpoint=row.touchpoint_name,
        order_no=row.order_no,
        created_at=row.created_at,
        resolved_at=row.resolved_at,
        closed_at=row.closed_at,
    )


def _survey(row: Any) -> SurveyRecord:
    return SurveyRecord(
        id=row.id,
        customer_code=row.customer_code,
        kind=row.kind,
        score=row.score,
        touchpoint=row.touchpoint_name,
        order_no=row.order_no,
        comment=row.comment,
        answered_at=row.created_at,
    )


def touchpoint_id_for(session: Session, value: object) -> int:
    """A touchpoint by id or by its (unambiguous) name."""
    text = clean_text(value)
    if text.isdigit():
        found = session.execute(sa.select(TP.id).where(TP.id == int(text))).scalar_one_or_none()
        if found is not None:
            return found
    ids = session.execute(sa.select(TP.id).where(TP.name == text).limit(2)).scalars().all()
    if len(ids) == 1:
        return ids[0]
    if ids:
        raise InvalidInput(
            _("touchpoint name {name} is ambiguous; give its id").format(name=text),
            field="touchpoint",
        )
    raise NotFound(_("no touchpoint {name}").format(name=text))


def order_id_for(session: Session, customer_id: int, order_no: object) -> int:
    """An order by number; it must belong to the customer the feedback is about."""
    text = clean_text(order_no)
    row = session.execute(sa.select(O.id, O.customer_id).where(O.order_no == text)).first()
    if row is None:
        raise NotFound(_("no order {order}").format(order=text))
    if row.customer_id != customer_id:
        raise InvalidInput(
            _("order {order} belongs to another customer").format(order=text), field="order"
        )
    return row.id


def _links(
    session: Session, customer_id: int, touchpoint: object | None, order: object | None
) -> dict[str, int | None]:
    return {
        "touchpoint_id": touchpoint_id_for(session, touchpoint) if touchpoint else None,
        "order_id": order_id_for(session, customer_id, order) if order else None,
    }


# ----------------------------------------------------------------------------- complaints


def add_complaint(
    ctx: ServiceContext,
    code: str,
    *,
    category: str,
    severity: str,
    notes: str | None = None,
    owner: str | None = None,
    touchpoint: object | None = None,
    order: object | None = None,
) -> ComplaintRecord:
    """Log a complaint as an open ticket; its SLA due time follows from the severity."""
    sev = clean_text(severity).lower()
    if sev not in SEVERITIES:
        raise InvalidInput(
            _("severity must be one of: {choices}").format(choices=", ".join(SEVERITIES)),
            field="severity",
        )
    cat = clean_text(category)
    if not cat:
        raise InvalidInput(_("category is required"), field="category", code="missing_required")
    now = ctx.now()
    with ctx.transaction() as s:
        cid = customer_id_for(s, code)
        values: dict[str, Any] = {
            "customer_id": cid,
            "kind": "complaint",
            "category": cat[:64],
            "severity": sev,
            "owner": clean_text(owner) or ctx.actor.username,
            "status": "open",
            "comment": clean_text(notes) or None,
            "sla_due_at": now + dt.timedelta(hours=sla_hours()[sev]),
            "created_at": now,
            "extra": {},
            **_links(s, cid, touchpoint, order),
        }
        fid = s.execute(sa.insert(Feedback.__table__).values(**values)).inserted_primary_key[0]
        audit.record(s, ctx.actor, "complaint", fid, "create", None, {**values, "code": code})
    return get_complaint(ctx, fid)


def get_complaint(ctx: ServiceContext, complaint_id: int) -> ComplaintRecord:
    with ctx.session() as s:
        row = s.execute(
            _select_feedback().where(F.id == complaint_id, F.kind == "complaint")
        ).first()
    if row is None:
        raise NotFound(_("no complaint {id}").format(id=complaint_id))
    return _complaint(row, ctx.now())


def list_complaints(
    ctx: ServiceContext,
    *,
    status: str | None = None,
    overdue: bool = False,
    customer: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[ComplaintRecord]:
    """Complaints, the most urgent first (earliest SLA due among open ones, then newest)."""
    limit = clamp_limit(limit)
    now = ctx.now()
    conds: list[sa.ColumnElement[bool]] = [F.kind == "complaint"]
    if status:
        if status not in STATUSES:
            raise InvalidInput(
                _("status must be one of: {choices}").format(choices=", ".join(STATUSES)),
                field="status",
            )
        conds.append(F.status == status)
    if overdue:
        conds += [F.status.in_(OPEN_STATUSES), F.sla_due_at < now]
    if customer:
        conds.append(C.code == customer)
    open_first = sa.case((F.status.in_(OPEN_STATUSES), 0), else_=1)
    rows, total = _page(ctx, conds, [open_first, F.sla_due_at.asc(), F.id.desc()], limit, offset)
    return Page([_complaint(r, now) for r in rows], total, limit, offset)


def overdue_complaints(ctx: ServiceContext, *, limit: int = 50) -> list[ComplaintRecord]:
    """Open or in-progress complaints past their SLA: what the Today screen surfaces."""
    return list_complaints(ctx, overdue=True, limit=limit).items


def set_status(
    ctx: ServiceContext, complaint_id: int, status: str, *, resolution: str | None = None
) -> ComplaintRecord:
    """Move a complaint along its lifecycle; invalid moves and resolving without notes fail."""
    if status not in STATUSES:
        raise InvalidInput(
            _("status must be one of: {choices}").format(choices=", ".join(STATUSES)),
            field="status",
        )
    now = ctx.now()
    with ctx.transaction() as s:
        row = s.execute(
            sa.select(F.id, F.status, F.resolution).where(
                F.id == complaint_id, F.kind == "complaint"
            )
        ).first()
        if row is None:
            raise NotFound(_("no complaint {id}").format(id=complaint_id))
        if status not in TRANSITIONS[row.status]:
            raise InvalidInput(
                _("a {old} complaint cannot become {new}").format(old=row.status, new=status),
                field="status",
                code="invalid_transition",
            )
        changes: dict[str, Any] = {"status": status}
        if status == "resolved":
            text = clean_text(resolution)
            if not text:
                raise InvalidInput(
                    _("resolution notes are required to resolve a complaint"),
                    field="resolution",
                    code="missing_required",
                )
            changes.update(resolution=text, resolved_at=now)
        elif status == "closed":
            changes["closed_at"] = now
        elif status == "in_progress" and row.status == "resolved":
            changes["resolved_at"] = None
        s.execute(sa.update(Feedback.__table__).where(F.id == complaint_id).values(**changes))
        audit.record(
            s,
            ctx.actor,
            "complaint",
            complaint_id,
            "status",
            {"status": row.status, "resolution": row.resolution},
            changes,
        )
    return get_complaint(ctx, complaint_id)


def resolve(ctx: ServiceContext, complaint_id: int, resolution: str) -> ComplaintRecord:
    return set_status(ctx, complaint_id, "resolved", resolution=resolution)


def close(ctx: ServiceContext, complaint_id: int) -> ComplaintRecord:
    return set_status(ctx, complaint_id, "closed")


# ----------------------------------------------------------------------------- surveys


def _check_score(kind: object, score: object) -> tuple[str, int]:
    k = clean_text(kind).lower()
    if k not in SURVEY_KINDS:
        raise InvalidInput(_("kind must be csat or nps"), field="kind")
    low, high = SURVEY_KINDS[k]
    value = _whole_number(score)
    if value is None or not low <= value <= high:
        raise InvalidInput(
            _("score must be a whole number from {low} to {high}").format(low=low, high=high),
            field="score",
        )
    return k, int(value)


def _whole_number(value: object) -> Decimal | None:
    """A score as files write it: text (``9``, full-width ``９``, ``4.0`` as a spreadsheet
    saved as text writes a number), or the number a workbook or JSON cell holds (5, 4.0,
    Decimal). ``int("4.0")`` refused such a 4. None when it is no whole number (``4.5``,
    ``x``, a date)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    text = str(value) if isinstance(value, float | Decimal) else fold_width(clean_text(value))
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or number != number.to_integral_value():
        return None
    return number


def _answered_at(ctx: ServiceContext, day: dt.date | None) -> dt.datetime:
    """A survey answered on a day is stored at noon UTC, so its month is the same anywhere."""
    if day is None:
        return ctx.now()
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


def add_survey(
    ctx: ServiceContext,
    code: str,
    *,
    kind: str,
    score: object,
    touchpoint: object | None = None,
    order: object | None = None,
    comment: str | None = None,
    day: dt.date | None = None,
) -> SurveyRecord:
    k, value = _check_score(kind, score)
    with ctx.transaction() as s:
        cid = customer_id_for(s, code)
        values: dict[str, Any] = {
            "customer_id": cid,
            "kind": k,
            "score": value,
            "comment": clean_text(comment) or None,
            "created_at": _answered_at(ctx, day),
            "extra": {},
            **_links(s, cid, touchpoint, order),
        }
        fid = s.execute(sa.insert(Feedback.__table__).values(**values)).inserted_primary_key[0]
        audit.record(s, ctx.actor, "survey", fid, "create", None, {**values, "code": code})
        row = s.execute(_select_feedback().where(F.id == fid)).one()
    return _survey(row)


@dataclass(frozen=True)
class Reject:
    line: int
    field: str | None  # None for a line the reader made no record of (see ``_read_rows``)
    reason: str


@dataclass
class SurveyImport:
    imported: int = 0
    duplicates: int = 0
    rejects: list[Reject] = field(default_factory=list)


_HEADER_ALIASES = {
    "code": "code",
    "customer": "code",
    "customer_code": "code",
    "customer code": "code",
    "客户编号": "code",
    "客户代码": "code",
    "kind": "kind",
    "type": "kind",
    "类型": "kind",
    "score": "score",
    "分数": "score",
    "评分": "score",
    "評分": "score",
    "touchpoint": "touchpoint",
    "触点": "touchpoint",
    "觸點": "touchpoint",
    "date": "date",
    "日期": "date",
    "comment": "comment",
    "评论": "comment",
    "評論": "comment",
    "备注": "comment",
}
"""Headers as written, matched by ``header_key`` (which reads the traditional characters
``mapping`` knows as simplified ones: 客戶編號 is 客户编号); the traditional forms of the
others are listed."""


@functools.cache
def _header_fields() -> dict[str, str]:
    """``_HEADER_ALIASES`` by ``header_key``, as the other imports match their headers:
    ``Customer_Code``, ``CUSTOMER CODE`` and ``客戶編號`` (a Taiwan or Hong Kong export) find
    their column too."""
    from tricrm_tui.services.mapping import header_key

    return {header_key(alias): name for alias, name in _HEADER_ALIASES.items()}


_IMPORT_BATCH = 1000
"""Rows checked and written at a time, all in the import's one transaction."""


def _read_rows(
    path: Path, *, encoding: str | None = None, sheet: str | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, {field: cell}) pairs, one at a time, from any file the customer, order
    and interaction imports read, through their readers: delimited text in any encoding and
    delimiter, XLSX, old XLS, a web page's table, an XML spreadsheet, JSON Lines.

    The file is opened and its header checked here, before anything is written: a missing
    column, an unknown encoding or sheet ends the import with nothing done. Line numbers
    are the readers' (the line in an editor, the row in Excel). A line the reader made no
    record of (more cells than the header, not a JSON object) comes as its ``INVALID`` row,
    to be rejected with its number. Cells come as the readers give them (text; a workbook's
    date cell as a ``datetime``), less the ``'`` an export puts before a formula sign, taken
    off as the other imports take it off."""
    from tricrm_tui.services.import_cleaning import carries_marks, unmark
    from tricrm_tui.services.mapping import header_key
    from tricrm_tui.services.readers import INVALID, open_source

    source = open_source(path, encoding=encoding, sheet=sheet)
    fields = _header_fields()
    columns: dict[str, str] = {}
    for header in source.headers:
        name = fields.get(header_key(header))
        if name is not None:
            columns.setdefault(name, header)  # the first of two columns for one field
    if not source.headers and next(iter(source.rows()), None) is None:
        return iter(())  # an empty file: nothing to import, as before
    for needed in ("code", "kind", "score"):
        if needed not in columns:
            raise InvalidInput(
                _("{path}: missing column {column}").format(path=path, column=needed),
                field=needed,
                code="missing_column",
            )
    marked = carries_marks(source.info.format)

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        for line, raw in source.rows():
            if INVALID in raw:
                yield line, raw
            elif marked:
                yield line, {name: unmark(raw.get(col)) for name, col in columns.items()}
            else:
                yield line, {name: raw.get(col) for name, col in columns.items()}

    return rows()


def import_surveys(
    ctx: ServiceContext,
    path: str | Path,
    *,
    encoding: str | None = None,
    sheet: str | None = None,
) -> SurveyImport:
    """Import survey answers from any file the other imports read (see ``_read_rows``);
    ``encoding`` and ``sheet`` as ``tricrm import`` takes them.

    Every row is checked; bad rows are rejected with line, field and reason. The good rows
    are written in one transaction with one audit entry: a file that cannot be read to its
    end (a workbook cut short) leaves nothing written, and the same file imported again once
    fixed adds each answer once. Inside that transaction rows
    are read, checked and inserted ``_IMPORT_BATCH`` at a time, so the import holds one
    batch of the file in memory, not all of it (on SQLite, other writers wait from the first
    batch's insert to the end of the file, which for a survey file is moments)."""
    source = Path(path)
    result = SurveyImport()
    rows = _read_rows(source, encoding=encoding, sheet=sheet)
    touchpoints: dict[str, int] = {}
    with ctx.transaction() as s:
        while batch := list(itertools.islice(rows, _IMPORT_BATCH)):
            good = _checked_answers(ctx, s, source.name, batch, touchpoints, result.rejects)
            # Against what is stored, earlier batches of this file included.
            fresh = _without_duplicates(s, good)
            result.duplicates += len(good) - len(fresh)
            if fresh:
                s.execute(sa.insert(Feedback.__table__), fresh)
                result.imported += len(fresh)
        if result.imported:
            audit.record(
                s,
                ctx.actor,
                "survey",
                source.name,
                "import",
                None,
                {
                    "imported": result.imported,
                    "duplicates": result.duplicates,
                    "rejected": len(result.rejects),
                },
            )
    return result


def _checked_answers(
    ctx: ServiceContext,
    s: Session,
    file_name: str,
    batch: list[tuple[int, dict[str, Any]]],
    touchpoints: dict[str, int],
    rejects: list[Reject],
) -> list[dict[str, Any]]:
    """The batch's good rows as values to insert; each bad one added to ``rejects``.
    ``touchpoints`` remembers the names found over the file: a few, named on every row."""
    from tricrm_tui.services.import_cleaning import invalid_line
    from tricrm_tui.services.readers import INVALID

    # Codes folded as the other imports fold them: a full-width Ｃ１ names the customer C1.
    codes = {fold_width(clean_text(r.get("code"))) for _n, r in batch if INVALID not in r}
    ids: dict[str, int] = dict(  # type: ignore[arg-type]
        s.execute(sa.select(C.code, C.id).where(C.code.in_(codes), C.deleted_at.is_(None))).all()
    )
    good: list[dict[str, Any]] = []
    for line, row in batch:
        if INVALID in row:
            rejects.append(Reject(line, None, invalid_line(row).reason))
            continue
        code = fold_width(clean_text(row.get("code")))
        try:
            if not code:
                raise InvalidInput(_("customer code is required"), field="code")
            if code not in ids:
                raise InvalidInput(
                    _("no customer with code {code}").format(code=code), field="code"
                )
            kind, score = _check_score(row.get("kind"), row.get("score"))
            when = row.get("date")
            day = parse_date(when, field="date") if clean_text(when) else None
            tp = clean_text(row.get("touchpoint"))
            if tp and tp not in touchpoints:
                touchpoints[tp] = touchpoint_id_for(s, tp)
            good.append(
                {
                    "customer_id": ids[code],
                    "kind": kind,
                    "score": score,
                    "comment": clean_text(row.get("comment")) or None,
                    "created_at": _answered_at(ctx, day),
                    "touchpoint_id": touchpoints[tp] if tp else None,
                    "order_id": None,
                    "extra": {"source": file_name, "line": line},
                }
            )
        except (InvalidInput, NotFound) as exc:
            rejects.append(Reject(line, getattr(exc, "field", None) or "touchpoint", str(exc)))
    return good


def _without_duplicates(session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop answers already stored (or repeated in the file): same customer, kind, score,
    touchpoint and answer time. Importing the same file twice therefore adds nothing; rows
    without a date get the import time and are always new."""

    def key(r: Any) -> tuple[Any, ...]:
        return (r["customer_id"], r["kind"], r["score"], r["touchpoint_id"], r["created_at"])

    seen: set[tuple[Any, ...]] = set()
    ids = sorted({r["customer_id"] for r in rows})
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        existing = session.execute(
            sa.select(F.customer_id, F.kind, F.score, F.touchpoint_id, F.created_at).where(
                F.customer_id.in_(chunk), F.kind.in_(tuple(SURVEY_KINDS))
            )
        ).mappings()
        seen.update(key(r) for r in existing)
    out = []
    for r in rows:
        if key(r) not in seen:
            seen.add(key(r))
            out.append(r)
    return out


def list_surveys(
    ctx: ServiceContext, *, customer: str | None = None, limit: int = 50, offset: int = 0
) -> Page[SurveyRecord]:
    limit = clamp_limit(limit)
    conds: list[sa.ColumnElement[bool]] = [F.kind.in_(tuple(SURVEY_KINDS))]
    if customer:
        conds.append(C.code == customer)
    rows, total = _page(ctx, conds, [F.created_at.desc(), F.id.desc()], limit, offset)
    return Page([_survey(r) for r in rows], total, limit, offset)


# ----------------------------------------------------------------------------- summary


@dataclass(frozen=True)
class SurveySummary:
    group: str | None
    csat_responses: int
    csat_satisfied: int
    csat: Decimal | None
    csat_mean: Decimal | None
    nps_responses: int
    promoters: int
    passives: int
    detractors: int
    nps: Decimal | None


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def _group_expr(ctx: ServiceContext, by: str | None) -> sa.ColumnElement[Any] | None:
    if by is None:
        return None
    if by == "touchpoint":
        return TP.name
    if by == "segment":
        return C.rfm_segment
    if by == "tier":
        return C.value_tier
    if by == "month":
        if ctx.db.backend == "postgresql":
            return sa.func.to_char(sa.func.timezone("UTC", F.created_at), "YYYY-MM")
        return sa.func.strftime("%Y-%m", F.created_at)
    raise InvalidInput(
        _("--by must be one of: {choices}").format(choices=", ".join(SUMMARY_GROUPS)), field="by"
    )


def survey_summary(
    ctx: ServiceContext,
    *,
    by: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> list[SurveySummary]:
    """CSAT and NPS overall or per touchpoint, RFM segment, value tier or month (UTC),
    counted in one grouped query."""
    group = _group_expr(ctx, by)
    is_csat = F.kind == "csat"
    is_nps = F.kind == "nps"

    def count_if(cond: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)

    cols = [
        count_if(is_csat),
        count_if(sa.and_(is_csat, F.score >= 4)),
        sa.func.coalesce(sa.func.sum(sa.case((is_csat, F.score), else_=0)), 0),
        count_if(is_nps),
        count_if(sa.and_(is_nps, F.score >= 9)),
        count_if(sa.and_(is_nps, F.score <= 6)),
    ]
    conds: list[sa.ColumnElement[bool]] = [F.kind.in_(tuple(SURVEY_KINDS))]
    if date_from:
        conds.append(F.created_at >= dt.datetime.combine(date_from, dt.time(), tzinfo=dt.UTC))
    if date_to:
        end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        conds.append(F.created_at < end)
    query = (
        sa.select(*([group.label("g")] if group is not None else []), *cols)
        .select_from(Feedback.__table__)
        .join(Customer.__table__, C.id == F.customer_id)
        .outerjoin(Touchpoint.__table__, TP.id == F.touchpoint_id)
        .where(*conds)
    )
    if group is not None:
        query = query.group_by(group).order_by(group)
    out = []
    with ctx.session() as s:
        for row in s.execute(query):
            values = list(row)
            g = values.pop(0) if group is not None else None
            n_csat, satisfied, csat_total, n_nps, prom, detr = (int(v) for v in values)
            if not n_csat and not n_nps:
                continue
            out.append(
                SurveySummary(
                    group=g,
                    csat_responses=n_csat,
                    csat_satisfied=satisfied,
                    csat=_percent(satisfied, n_csat),
                    csat_mean=(Decimal(csat_total) / n_csat).quantize(Decimal("0.01"))
                    if n_csat
                    else None,
                    nps_responses=n_nps,
                    promoters=prom,
                    passives=n_nps - prom - detr,
                    detractors=detr,
                    nps=(Decimal(prom - detr) * 100 / n_nps).quantize(Decimal("0.1"))
                    if n_nps
                    else None,
                )
            )
    return out
