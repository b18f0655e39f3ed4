"""Merging duplicate customers, exactly reversibly, and remembering "not duplicates".

The kept customer takes the others' history: orders, interactions, follow-ups, feedback,
loyalty ledger entries, journey stage events and campaign sends, plus their tags. Value
snapshots and level changes stay with the customer they were computed for (they are
history of that record, recomputed for the kept one by the value service). A campaign send
moves only if the kept customer has none for that campaign (one send per campaign and
customer); otherwise it stays on the merged record and the merge record says so.

Empty fields of the kept customer are filled from the others (first non-empty, in the order
given), or per field from the customer named in ``prefer``. The others are marked
``merged_into_id`` and never deleted. Each merged customer gets a ``merge_records`` row
listing the ids moved per table and each filled field's value before and after, so
:func:`unmerge_customer` puts back exactly what moved, and restores a filled field only if
nobody has changed it since (a later edit wins and is reported).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tricrm_tui.db.bulk import chunks
from tricrm_tui.db.deferred import begin_immediate
from tricrm_tui.db.search import search_text_for
from tricrm_tui.i18n import _
from tricrm_tui.models import (
    CampaignSend,
    Customer,
    CustomerTag,
    Feedback,
    FollowUp,
    Interaction,
    LoyaltyEntry,
    MergeRecord,
    NotDuplicate,
    Order,
    StageEvent,
)
from tricrm_tui.services import audit
from tricrm_tui.services.context import ServiceContext
from tricrm_tui.services.customers import FIELD_COLUMNS, _tags_for
from tricrm_tui.services.errors import Conflict, InvalidInput, NotFound
from tricrm_tui.services.orders import refresh_customer_aggregates

C = Customer.__table__.c
T = CustomerTag.__table__
M = MergeRecord.__table__

MOVED_TABLES = {
    "orders": Order.__table__,
    "interactions": Interaction.__table__,
    "followups": FollowUp.__table__,
    "feedback": Feedback.__table__,
    "loyalty_ledger": LoyaltyEntry.__table__,
    "stage_events": StageEvent.__table__,
    "campaign_sends": CampaignSend.__table__,
}
FILLABLE = {k: v for k, v in FIELD_COLUMNS.items() if k != "code"}


@dataclass(frozen=True)
class MergeResult:
    kept: str
    merged: list[str]
    moved: dict[str, int]
    filled: dict[str, Any]
    sends_left: int = 0


@dataclass(frozen=True)
class UnmergeResult:
    restored: str
    kept: str
    moved_back: dict[str, int]
    fields_restored: list[str]
    fields_kept: list[str] = field(default_factory=list)
    points_settled: int = 0
    """Points moved from the merged customer to the kept one (negative: the other way) to
    cover what one spent of the other's while merged."""

    def lines(self) -> list[str]:
        """What the unmerge did, as the CLI and the TUI tell it."""
        out = [
            _("{code} restored from {kept}; moved back: {moved}").format(
                code=self.restored,
                kept=self.kept,
                moved=", ".join(f"{k} {v}" for k, v in self.moved_back.items()) or "-",
            )
        ]
        if self.fields_kept:
            out.append(
                _("fields changed since the merge were left as they are: {fields}").format(
                    fields=", ".join(self.fields_kept)
                )
            )
        if self.points_settled:
            giver, taker = (
                (self.restored, self.kept)
                if self.points_settled > 0
                else (self.kept, self.restored)
            )
            out.append(
                _("{n} points of {giver}'s cover what {taker} spent of them while merged").format(
                    n=abs(self.points_settled), giver=giver, taker=taker
                )
            )
        return out


def _locked(s: Session, codes: list[str]) -> dict[str, Any]:
    """The customers of ``codes``, their rows locked until the transaction ends, in id order
    so two merges cannot lock crosswise: read under the lock, a customer another merge took
    meanwhile shows as merged. SQLite has no row locks, and Python's driver would read these
    rows outside any transaction and only wait for the write lock at the first write, too
    late; the write lock is taken first instead."""
    begin_immediate(s.connection())
    named = sa.select(C.id).where(C.code.in_(codes)).scalar_subquery()
    # With them the customers merged into them, which a merge redirects: every row this
    # transaction writes is locked in this one ordered statement, as unmerge locks its own.
    # A merge into one of them that commits while this waits adds a row the statement
    # (PostgreSQL reads its set once) did not lock: asked again until nothing is added.
    wanted = sa.or_(C.code.in_(codes), C.merged_into_id.in_(named))
    held: set[int] = set()
    while True:
        rows = s.execute(
            sa.select(Customer.__table__).where(wanted).order_by(C.id).with_for_update()
        ).all()
        if {r.id for r in rows} <= held:
            return {r.code: r for r in rows if r.code in codes}
        held = {r.id for r in rows}


def _lock_ids(s: Session, ids: set[int]) -> None:
    """Lock these customers' rows, in id order (see :func:`_locked`)."""
    s.execute(sa.select(C.id).where(C.id.in_(sorted(ids))).order_by(C.id).with_for_update()).all()


def _row(s: Session, code: str, *, active: bool = True, found: Any = None) -> Any:
    row = (
        s.execute(sa.select(Customer.__table__).where(C.code == code)).first()
        if found is None
        else found.get(code)
    )
    if row is None or row.deleted_at is not None:
        raise NotFound(_("no customer with code {code}").format(code=code))
    if active and row.merged_into_id is not None:
        raise InvalidInput(
            _("customer {code} is already merged into another customer").format(code=code),
            field="code",
        )
    return row


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _refresh(s: Session, ctx: ServiceContext, ids: list[int]) -> None:
    from tricrm_tui.services.classify import classify_session, rules_or_none

    refresh_customer_aggregates(s, ids)
    tags = _tags_for(s, ids)
    for cid in ids:
        r = s.execute(sa.select(Customer.__table__).where(C.id == cid)).one()
        s.execute(
            sa.update(Customer.__table__)
            .where(C.id == cid)
            .values(
                search_text=search_text_for(r.code, r.name, r.phone, r.email, tags[cid], r.notes)
            )
        )
    # As adding and editing do: a broken classify.toml leaves the classes as they were
    # (`tricrm classify` says what is wrong) rather than block the merge.
    rules = rules_or_none()
    if rules is not None:
        classify_session(s, ctx.today(), ids, rules)


def merge_customers(
    ctx: ServiceContext,
    keep_code: str,
    other_codes: list[str],
    prefer: dict[str, str] | None = None,
) -> MergeResult:
    """Merge ``other_codes`` into ``keep_code`` (see the module docstring)."""
    others = list(dict.fromkeys(other_codes))
    if not others:
        raise InvalidInput(
            _("name at least one customer to merge into {code}").format(code=keep_code)
        )
    if keep_code in others:
        raise InvalidInput(
            _("a customer cannot be merged into itself: {code}").format(code=keep_code)
        )
    prefer = dict(prefer or {})
    for fname, code in prefer.items():
        if fname not in FILLABLE:
            raise InvalidInput(
                _("cannot prefer field {field}; choose one of: {choices}").format(
                    field=fname, choices=", ".join(FILLABLE)
                ),
                field="prefer",
            )
        if code != keep_code and code not in others:
            raise InvalidInput(
                _("--prefer {field}={code}: {code} is not one of the merged customers").format(
                    field=fname, code=code
                ),
                field="prefer",
            )
    moved_total: dict[str, int] = dict.fromkeys(MOVED_TABLES, 0)
    filled_total: dict[str, Any] = {}
    sends_left = 0
    with ctx.transaction() as s:
        found = _locked(s, [keep_code, *others])
        keep = _row(s, keep_code, found=found)
        rows = {code: _row(s, code, found=found) for code in others}
        current = {col: getattr(keep, col) for col in FILLABLE.values()}
        # Which customer supplies each filled field.
        source: dict[str, str] = {}
        for fname, col in FILLABLE.items():
            if fname in prefer:
                chosen = keep if prefer[fname] == keep_code else rows[prefer[fname]]
                if chosen is not keep and _empty(getattr(chosen, col)):
                    raise InvalidInput(
                        _("--prefer {field}={code}: {code} has no {field}").format(
                            field=fname, code=chosen.code
                        ),
                        field="prefer",
                    )
                if chosen is not keep and getattr(chosen, col) != current[col]:
                    source[col] = chosen.code
            elif _empty(current[col]):
                for code in others:
                    if not _empty(getattr(rows[code], col)):
                        source[col] = code
                        break
        # The size as given goes with its band, and with a preferred size of the same band.
        giver_code = source.get("size_band") or prefer.get("size", keep_code)
        if giver_code != keep_code:
            giver = rows[giver_code]
            if giver.size_text != keep.size_text:
                current["size_text"] = keep.size_text
                source["size_text"] = giver.code
        keep_tags = set(_tags_for(s, [keep.id])[keep.id])
        tags_before = sorted(keep_tags)
        custom = dict(keep.custom_fields or {})
        points = keep.points_balance
        for code in others:
            other = rows[code]
            moved: dict[str, list[int]] = {}
            # Those merged into this one before now point at the kept customer, so a code
            # always leads to the customer that holds its records (an order file naming one).
            redirected = sorted(
                s.execute(sa.select(C.id).where(C.merged_into_id == other.id)).scalars().all()
            )
            if redirected:
                s.execute(
                    sa.update(Customer.__table__)
                    .where(C.id.in_(redirected))
                    .values(merged_into_id=keep.id)
                )
                moved["redirected"] = redirected
            for name, table in MOVED_TABLES.items():
                q = sa.select(table.c.id).where(table.c.customer_id == other.id)
                if name == "campaign_sends":
                    taken = sa.select(table.c.campaign_id).where(table.c.customer_id == keep.id)
                    left = s.execute(q.where(table.c.campaign_id.in_(taken))).scalars().all()
                    if left:
                        moved["campaign_sends_left"] = sorted(left)
                        sends_left += len(left)
                    q = q.where(table.c.campaign_id.not_in(taken))
                ids = sorted(s.execute(q).scalars().all())
                if ids:
                    s.execute(
                        sa.update(table).where(table.c.id.in_(ids)).values(customer_id=keep.id)
                    )
                    moved[name] = ids
                    moved_total[name] += len(ids)
            other_tags = _tags_for(s, [other.id])[other.id]
            added = sorted(set(other_tags) - keep_tags)
            if added:
                s.execute(sa.insert(T), [{"customer_id": keep.id, "tag": t} for t in added])
                keep_tags |= set(added)
                moved["tags_added"] = added  # type: ignore[assignment]
            filled: dict[str, Any] = {}
            values: dict[str, Any] = {}
            for col, src in source.items():
                if src == code:
                    filled[col] = {
                        "before": audit.jsonable(current[col]),
                        "after": audit.jsonable(getattr(other, col)),
                    }
                    values[col] = getattr(other, col)
            new_custom = {k: v for k, v in (other.custom_fields or {}).items() if k not in custom}
            if new_custom:
                filled["custom_fields"] = {"before": dict(custom), "added": new_custom}
                custom.update(new_custom)
                values["custom_fields"] = dict(custom)
            if other.points_balance:
                moved["points"] = other.points_balance  # type: ignore[assignment]
                points += other.points_balance
                values["points_balance"] = points
            if values:
                s.execute(sa.update(Customer.__table__).where(C.id == keep.id).values(**values))
            s.execute(
                sa.update(Customer.__table__)
                .where(C.id == other.id)
                .values(
                    merged_into_id=keep.id,
                    points_balance=0,
                    updated_at=ctx.now(),
                    version=other.version + 1,
                )
            )
            s.execute(
                sa.insert(M).values(
                    kept_id=keep.id,
                    merged_id=other.id,
                    moved=moved,
                    filled=filled,
                    actor=ctx.actor.username,
                    merged_at=ctx.now(),
                )
            )
            filled_total.update({k: v.get("after", v.get("added")) for k, v in filled.items()})
            audit.record(
                s,
                ctx.actor,
                "customer",
                code,
                "merge",
                {"merged_into": None},
                {
                    "merged_into": keep_code,
                    "moved": {k: len(v) if isinstance(v, list) else v for k, v in moved.items()},
                    "filled": sorted(filled),
                },
            )
        s.execute(
            sa.update(Customer.__table__)
            .where(C.id == keep.id)
            .values(updated_at=ctx.now(), version=keep.version + 1)
        )
        _refresh(s, ctx, [keep.id, *[r.id for r in rows.values()]])
        public_before = {
            col: audit.jsonable(getattr(keep, col)) for col in [*filled_total, "points_balance"]
        }
        audit.record(
            s,
            ctx.actor,
            "customer",
            keep_code,
            "merge_keep",
            {**public_before, "tags": tags_before},
            {
                "merged": others,
                "filled": filled_total,
                "points_balance": points,
                "tags": sorted(keep_tags),
            },
        )
    public = {v: k for k, v in FIELD_COLUMNS.items()}
    return MergeResult(
        kept=keep_code,
        merged=others,
        moved={k: v for k, v in moved_total.items() if v},
        filled={public.get(k, k): v for k, v in filled_total.items()},
        sends_left=sends_left,
    )


def _restore_value(col: str, text: Any) -> Any:
    if text is None:
        return None
    if col in ("birthday", "registered_on") and isinstance(text, str):
        return dt.date.fromisoformat(text)
    return text


def unmerge_customer(ctx: ServiceContext, merged_code: str) -> UnmergeResult:
    """Undo the latest merge of ``merged_code``: its records move back, its tags leave the
    kept customer, fields it filled are emptied again (unless edited since), and it is
    active again.

    Only what is still on the kept customer moves back: a row moved elsewhere since (or
    removed, its id perhaps given to another row) stays where it is. Points earned on the
    kept customer for orders that move back, and the expiry of lots that move back, go with
    them; both balances are then the sums of their ledgers, and what one spent of the
    other's points while merged is settled between them (:func:`_settle_points`). A tag, custom field
    or field value another customer still merged into the kept one also brought stays. A
    merge whose kept customer has itself been merged since is undone in reverse order:
    that later merge first."""
    with ctx.transaction() as s:
        begin_immediate(s.connection())  # see ``_locked``
        other = _row(s, merged_code, active=False)
        if other.merged_into_id is None:
            raise InvalidInput(
                _("customer {code} is not merged into another customer").format(code=merged_code),
                field="code",
            )
        rec = s.execute(
            sa.select(M)
            .where(M.c.merged_id == other.id, M.c.undone_at.is_(None))
            .order_by(M.c.id.desc())
            .limit(1)
        ).first()
        if rec is None:
            raise Conflict(
                _("no merge record for {code}; it cannot be unmerged").format(code=merged_code)
            )
        # Every customer row this writes, locked in one ordered statement (as merges lock
        # theirs), then read again: another merge or unmerge may have finished meanwhile.
        _lock_ids(s, {other.id, rec.kept_id, *(rec.moved or {}).get("redirected", [])})
        other = s.execute(sa.select(Customer.__table__).where(C.id == other.id)).one()
        rec = s.execute(sa.select(M).where(M.c.id == rec.id, M.c.undone_at.is_(None))).first()
        if rec is None or other.merged_into_id is None:
            raise Conflict(
                _("{code} was unmerged meanwhile, by someone else").format(code=merged_code)
            )
        keep = s.execute(sa.select(Customer.__table__).where(C.id == rec.kept_id)).one()
        if keep.merged_into_id is not None:
            final = s.execute(sa.select(C.code).where(C.id == keep.merged_into_id)).scalar_one()
            raise Conflict(
                _(
                    "{code} was merged into {kept}, which has since been merged into {final}: "
                    "unmerge {kept} first"
                ).format(code=merged_code, kept=keep.code, final=final)
            )
        moved = dict(rec.moved or {})
        back: dict[str, int] = {}
        for name, table in MOVED_TABLES.items():
            ids = moved.get(name) or []
            if name == "loyalty_ledger":
                ids = [*ids, *_points_of_orders(s, keep.id, other.id, moved.get("orders") or [])]
            if ids:
                n = _move(s, table, ids, keep.id, other.id)
                if name == "loyalty_ledger":
                    n += _move(s, table, _expiries_of_lots(s, keep.id, other.id), keep.id, other.id)
                if n:
                    back[name] = n
        redirected = moved.get("redirected") or []
        if redirected:
            s.execute(
                sa.update(Customer.__table__)
                .where(C.id.in_(redirected), C.merged_into_id == keep.id)
                .values(merged_into_id=other.id)
            )
        staying = _still_merged(s, keep.id, other.id)
        tags_now = _tags_for(s, [keep.id])[keep.id]
        added = []
        for tag in moved.get("tags_added") or []:
            by = next((r for r in staying if tag in r.tags), None)
            if by is None:
                added.append(tag)
            else:  # another customer still merged in has it: it stays, as theirs now
                by.brings_tag(tag)
        if added:
            s.execute(sa.delete(T).where(T.c.customer_id == keep.id, T.c.tag.in_(added)))
        values: dict[str, Any] = {}
        restored, kept_changes = [], []
        for col, change in (rec.filled or {}).items():
            if col == "custom_fields":
                now_custom = dict(keep.custom_fields or {})
                for k, v in change["added"].items():
                    if now_custom.get(k) != v:
                        continue  # changed since: the later value stays
                    # Another customer still merged in that has the field fills it.
                    by = next((r for r in staying if k in r.custom_fields), None)
                    if by is None:
                        now_custom.pop(k)
                    else:
                        now_custom[k] = by.custom_fields[k]
                        by.fills("custom_fields", None, {k: by.custom_fields[k]})
                values["custom_fields"] = now_custom
                restored.append(col)
                continue
            now = audit.jsonable(getattr(keep, col))
            if now != change["after"]:
                # A later merge into the same customer replacing this value (``--prefer``)
                # recorded it as its "before": that merge now takes back what was there
                # before this one, not this one's value.
                later = next(
                    (r for r in staying
                     if (r.filled.get(col) or {}).get("before") == change["after"]),
                    None,
                )  # fmt: skip
                if later is not None:
                    later.filled[col] = {**later.filled[col], "before": change["before"]}
                    later.refilled = True
                else:
                    kept_changes.append(col)
                continue
            before = _restore_value(col, change["before"])
            same = (r for r in staying if audit.jsonable(getattr(r, col)) == change["after"])
            if (by := next(same, None)) is not None:
                by.fills(col, before, getattr(by, col))  # the same value: it stays, as theirs
                continue
            by = next((r for r in staying if not _empty(getattr(r, col))), None)
            if _empty(before) and by is not None:
                values[col] = getattr(by, col)
                by.fills(col, before, values[col])
            else:
                values[col] = before
            restored.append(col)
        for r in staying:
            if r.refilled:
                s.execute(
                    sa.update(M).where(M.c.id == r.record_id).values(filled=r.filled, moved=r.moved)
                )
        balances = _ledger_sums(s, [keep.id, other.id])
        settled = _settle_points(s, ctx, rec.id, keep, other, balances)
        values.update(
            points_balance=balances[keep.id], updated_at=ctx.now(), version=keep.version + 1
        )
        s.execute(sa.update(Customer.__table__).where(C.id == keep.id).values(**values))
        s.execute(
            sa.update(Customer.__table__)
            .where(C.id == other.id)
            .values(
                merged_into_id=None,
                points_balance=balances[other.id],
                updated_at=ctx.now(),
                version=other.version + 1,
            )
        )
        s.execute(sa.update(M).where(M.c.id == rec.id).values(undone_at=ctx.now()))
        _refresh(s, ctx, [keep.id, other.id])
        audit.record(
            s,
            ctx.actor,
            "customer",
            merged_code,
            "unmerge",
            {"merged_into": keep.code},
            {
                "merged_into": None,
                "moved_back": back,
                "restored": restored,
                "kept": kept_changes,
                "points_settled": settled,
            },
        )
        changed = [c for c in values if c not in ("updated_at", "version")]
        audit.record(
            s,
            ctx.actor,
            "customer",
            keep.code,
            "unmerge_keep",
            {
                **{c: audit.jsonable(getattr(keep, c)) for c in changed},
                "tags": tags_now,
            },
            {
                "unmerged": merged_code,
                **{c: audit.jsonable(values[c]) for c in changed},
                "tags": [t for t in tags_now if t not in added],
            },
        )
    public = {v: k for k, v in FIELD_COLUMNS.items()}
    return UnmergeResult(
        restored=merged_code,
        kept=keep.code,
        moved_back=back,
        fields_restored=[public.get(c, c) for c in restored],
        fields_kept=[public.get(c, c) for c in kept_changes],
        points_settled=settled,
    )


def _settle_points(
    s: Session, ctx: ServiceContext, record_id: int, keep: Any, other: Any, sums: dict[int, int]
) -> int:
    """Points one of the two spent of the other's while merged, given back as a pair of
    ``adjust`` entries: which customer's lot a redemption or an expiry drew on was decided
    on the merged ledger, so with each entry back on its own customer one may be short
    what the other is over (together they hold what the kept one held, never below zero).
    Returns the points moved from the merged customer to the kept one (negative: the other
    way); ``sums`` is updated."""
    from tricrm_tui.services.loyalty import audit_entry
    from tricrm_tui.services.loyalty_rules import expiry_for, load_config

    short = next((c for c in (keep, other) if sums[c.id] < 0), None)
    if short is None:
        return 0
    giver = other if short is keep else keep
    n = -sums[short.id]
    reason = _("unmerge of {code}: points spent while merged").format(code=other.code)[:200]
    now = ctx.now()
    entries = [
        (who, {"customer_id": who.id, "at": now, "kind": "adjust", "points": points,
               "source_key": f"adjust:unmerge-{record_id}-{key}", "reason": reason,
               "expires_on": expires, "actor": ctx.actor.username})
        for who, points, key, expires in (
            (giver, -n, "out", None),
            (short, n, "in", expiry_for(ctx.today(), load_config())),
        )
    ]  # fmt: skip
    s.execute(sa.insert(LoyaltyEntry.__table__), [entry for _who, entry in entries])
    for who, entry in entries:
        audit_entry(s, ctx, who.code, entry, sums[who.id])
        sums[who.id] += entry["points"]
    return n if short is keep else -n


def _move(s: Session, table: sa.Table, ids: list[int], frm: int, to: int) -> int:
    """Move the rows of ``ids`` still on ``frm`` to ``to``; how many moved."""
    n = 0
    for part in chunks(ids):
        n += (
            s.execute(
                sa.update(table)
                .where(table.c.id.in_(part), table.c.customer_id == frm)
                .values(customer_id=to)
            ).rowcount
            or 0
        )
    return n


def _points_of_orders(s: Session, keep_id: int, other_id: int, order_ids: list[int]) -> list[int]:
    """Ledger entries on the kept customer that earned points for these orders, moved back
    to the other one (a loyalty run after the merge credited them there)."""
    L, OT = LoyaltyEntry.__table__, Order.__table__
    found: list[int] = []
    for part in chunks(order_ids):
        keys = sa.select(sa.literal("order:") + OT.c.order_no).where(
            OT.c.id.in_(part), OT.c.customer_id == other_id
        )
        found += s.execute(
            sa.select(L.c.id).where(L.c.customer_id == keep_id, L.c.source_key.in_(keys))
        ).scalars()
    return found


def _expiries_of_lots(s: Session, keep_id: int, other_id: int) -> list[int]:
    """Expiry entries on the kept customer for lots (positive entries) now back on the
    other one: ``expire:<lot id>:<date>``."""
    L = LoyaltyEntry.__table__
    lots = {
        str(i)
        for i in s.execute(
            sa.select(L.c.id).where(L.c.customer_id == other_id, L.c.points > 0)
        ).scalars()
    }
    return [
        i
        for i, key in s.execute(
            sa.select(L.c.id, L.c.source_key).where(
                L.c.customer_id == keep_id, L.c.kind == "expire"
            )
        )
        if key.split(":")[1] in lots
    ]


def _ledger_sums(s: Session, ids: list[int]) -> dict[int, int]:
    L = LoyaltyEntry.__table__
    sums = dict.fromkeys(ids, 0)
    for cid, total in s.execute(
        sa.select(L.c.customer_id, sa.func.sum(L.c.points))
        .where(L.c.customer_id.in_(ids))
        .group_by(L.c.customer_id)
    ):
        sums[cid] = int(total or 0)
    return sums


@dataclass
class _Merged:
    """A customer still merged straight into the kept one, with its merge record's
    ``filled`` (changed when it fills in for a customer unmerged before it)."""

    tags: set[str]
    values: dict[str, Any]
    record_id: int
    filled: dict[str, Any]
    moved: dict[str, Any]
    refilled: bool = False

    def __getattr__(self, col: str) -> Any:
        return self.values.get(col)

    @property
    def custom_fields(self) -> dict[str, Any]:
        return self.values.get("custom_fields") or {}

    def fills(self, col: str, before: Any, after: Any) -> None:
        """Record that it filled ``col``, so unmerging it takes the value back out."""
        if col == "custom_fields":
            entry = self.filled.setdefault("custom_fields", {"before": {}, "added": {}})
            entry["added"] = {**entry["added"], **after}
        else:
            self.filled[col] = {"before": audit.jsonable(before), "after": audit.jsonable(after)}
        self.refilled = True

    def brings_tag(self, tag: str) -> None:
        self.moved["tags_added"] = sorted({*self.moved.get("tags_added", []), tag})
        self.refilled = True


def _still_merged(s: Session, keep_id: int, leaving: int) -> list[_Merged]:
    """The other customers merged straight into ``keep_id`` and not unmerged, in the order
    they were merged: what they brought stays, and they fill what the leaving one took."""
    rows = s.execute(
        sa.select(
            Customer.__table__,
            M.c.id.label("record_id"),
            M.c.filled.label("record_filled"),
            M.c.moved.label("record_moved"),
        )
        .join(M, M.c.merged_id == C.id)
        .where(
            M.c.kept_id == keep_id,
            M.c.undone_at.is_(None),
            C.merged_into_id == keep_id,
            C.id != leaving,
        )
        .order_by(M.c.id)
    ).all()
    tags = _tags_for(s, [r.id for r in rows]) if rows else {}
    return [
        _Merged(
            set(tags.get(r.id, [])),
            dict(r._mapping),
            r.record_id,
            dict(r.record_filled or {}),
            dict(r.record_moved or {}),
        )
        for r in rows
    ]


def mark_not_duplicate(ctx: ServiceContext, code_a: str, code_b: str) -> bool:
    """Record that two customers are different people; False if already recorded."""
    if code_a == code_b:
        raise InvalidInput(_("give two different customers"), field="code")
    N = NotDuplicate.__table__
    with ctx.transaction() as s:
        a, b = _row(s, code_a, active=False), _row(s, code_b, active=False)
        lo, hi = sorted((a.id, b.id))
        exists = s.execute(
            sa.select(N.c.id).where(N.c.customer_a_id == lo, N.c.customer_b_id == hi)
        ).first()
        if exists is not None:
            return False
        s.execute(
            sa.insert(N).values(
                customer_a_id=lo,
                customer_b_id=hi,
                decided_by=ctx.actor.username,
                decided_at=ctx.now(),
            )
        )
        audit.record(
            s, ctx.actor, "customer", code_a, "not_duplicate", None, {"different_from": code_b}
        )
    return True


@dataclass(frozen=True)
class MergedIn:
    """A customer merged into another and not unmerged: what ``unmerge`` can give back."""

    code: str
    name: str
    merged_at: dt.datetime
    actor: str | None


def merged_in(ctx: ServiceContext, keep_code: str) -> list[MergedIn]:
    """The customers merged straight into ``keep_code`` and not unmerged, latest first (the
    one a chain lets ``unmerge`` take back first)."""
    K = Customer.__table__.alias("kept")
    with ctx.session() as s:
        _row(s, keep_code, active=False)  # named, and not deleted
        rows = s.execute(
            sa.select(C.code, C.name, M.c.merged_at, M.c.actor)
            .select_from(M.join(Customer.__table__, C.id == M.c.merged_id))
            .join(K, K.c.id == M.c.kept_id)
            .where(K.c.code == keep_code, M.c.undone_at.is_(None), C.merged_into_id.is_not(None))
            .order_by(M.c.id.desc())
        ).all()
    return [MergedIn(r.code, r.name, r.merged_at, r.actor) for r in rows]
