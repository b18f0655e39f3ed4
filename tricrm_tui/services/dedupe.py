"""Probable duplicate customers across the whole base, in seconds at 100k customers.

Blocking, then scoring (the standard record-linkage recipe, Fellegi–Sunter style):

1. One query reads the few columns needed (code, name, kind, phone, email, birthday, city,
   province, industry) of the active customers; no ORM objects.
2. Blocks: customers sharing an E.164 phone, an email, or a name key
   (:func:`~tricrm_tui.services.names.name_key`: toneless pinyin, so 张伟, 張偉 and Zhang Wei
   meet). Only pairs inside a block are compared, so the work grows with block sizes, not
   with n². A name block larger than :data:`MAX_NAME_BLOCK` (a very common name such as 张伟)
   is split by birthday and by city-with-industry, the evidence a same-name pair needs to
   reach the default score anyway (city alone scores 0.65); a phone or
   email block larger than :data:`MAX_CONTACT_BLOCK` (a shop's switchboard number typed for
   every walk-in) is skipped and counted in :attr:`DuplicateScan.capped_blocks`.
3. Each pair is scored 0..1 with rapidfuzz name similarity plus the evidence:
   a shared phone or email scores 0.7 + 0.3 × name similarity; otherwise the name must be
   close (similarity ≥ 0.85) AND something else must agree (birthday +0.35, city +0.10,
   industry +0.10), while disagreeing contacts count against (two different phones −0.15,
   two different emails −0.10) and two different birthdays rule the pair out. So two
   strangers called 张伟 with different phones and birthdays are never offered.
4. Pairs an operator marked "not duplicates" are skipped; the rest are grouped (connected
   components), each group scored by its strongest pair and listing every reason.

Library, and why: ``rapidfuzz`` (C++ Levenshtein/Indel ratios, handles CJK strings).
"""

from __future__ import annotations

import datetime as dt
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations
from typing import Any, NamedTuple

import sqlalchemy as sa
from rapidfuzz import fuzz

from tricrm_tui.i18n import _
from tricrm_tui.models import Customer, NotDuplicate
from tricrm_tui.services.collector import paused_during
from tricrm_tui.services.context import ServiceContext
from tricrm_tui.services.customers import active_condition
from tricrm_tui.services.names import clean_name, name_key, name_tokens, name_tokens_once

C = Customer.__table__.c
N = NotDuplicate.__table__.c

MAX_NAME_BLOCK = 200
"""A name shared by more customers than this is compared only within the same birthday or
the same city and industry (200 customers are ~20k pairs; 5,000 would be 12.5M)."""
MAX_CONTACT_BLOCK = 50
"""A phone or email on more customers than this is a shared line, not one person."""
MIN_NAME_SIMILARITY = 0.85
DEFAULT_MIN_SCORE = 0.7
_STREAM_BLOCK = 5000


class _Row(NamedTuple):
    """One customer's matching fields (a tuple: 100k of them build in a fraction of a second)."""

    id: int
    code: str
    name: str
    enterprise: bool
    phone: str | None
    email: str | None
    birthday: dt.date | None
    city: str | None
    industry: str | None
    key: str
    flat: str  # cleaned name, for direct comparison
    spelled: str  # pinyin tokens, surname first


def _parts(tokens: list[str], name: str, enterprise: bool) -> tuple[str, str, str]:
    key = "".join(sorted(tokens)) if tokens else ""
    return key, clean_name(name, enterprise).replace(" ", ""), " ".join(tokens)


@lru_cache(maxsize=262144)
def _name_parts(name: str, enterprise: bool) -> tuple[str, str, str]:
    """(blocking key, cleaned name without spaces, pinyin tokens joined), cached per name."""
    return _parts(name_tokens(name, enterprise), name, enterprise)


def _name_parts_once(name: str, enterprise: bool) -> tuple[str, str, str]:
    """:func:`_name_parts` uncached, for the streaming passes (a few µs a name)."""
    return _parts(name_tokens_once(name, enterprise), name, enterprise)


@dataclass(frozen=True)
class DuplicatePair:
    codes: tuple[str, str]
    score: float
    reasons: tuple[str, ...]


@dataclass
class DuplicateGroup:
    codes: list[str]
    score: float
    reasons: list[str]
    pairs: list[DuplicatePair] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"codes": self.codes, "score": self.score, "reasons": self.reasons}


@dataclass
class DuplicateScan:
    groups: list[DuplicateGroup]
    customers: int
    pairs_compared: int
    capped_blocks: list[str]


_COLUMNS = [C.id, C.code, C.name, C.kind, C.phone, C.email, C.birthday, C.city, C.industry]
PartsOf = Callable[[str, bool], tuple[str, str, str]]


def _contacts(r: Any) -> tuple[str | None, str | None]:
    """A fetched row's phone and email as matching compares them."""
    return r.phone or None, (r.email or "").lower() or None


def _name_key_once(name: str, enterprise: bool) -> str:
    """The blocking key :func:`_name_parts_once` gives, without the other two parts."""
    tokens = name_tokens_once(name, enterprise)
    return "".join(sorted(tokens)) if tokens else ""


def _row(r: Any, parts: PartsOf) -> _Row:
    ent = r.kind == "enterprise"
    key, flat, spelled = parts(r.name, ent)
    phone, email = _contacts(r)
    return _Row(
        r.id,
        r.code,
        r.name,
        ent,
        phone,
        email,
        r.birthday,
        (r.city or "").strip() or None,
        (r.industry or "").strip().lower() or None,
        key,
        flat,
        spelled,
    )


def _stream_raw(ctx: ServiceContext) -> Iterator[Any]:
    """Every active customer's matching columns as fetched, a block at a time, in id order."""
    with ctx.session() as s:
        yield from s.execute(
            sa.select(*_COLUMNS)
            .where(active_condition())
            .order_by(C.id)
            .execution_options(yield_per=_STREAM_BLOCK)
        )


def _stream(ctx: ServiceContext, parts: PartsOf) -> Iterator[_Row]:
    """Every active customer's matching fields, fetched a block at a time."""
    for r in _stream_raw(ctx):
        yield _row(r, parts)


def _load(ctx: ServiceContext) -> list[_Row]:
    return list(_stream(ctx, _name_parts))


@dataclass
class _Counts:
    """How many customers share each phone, email and name key (by hash: 8 bytes each)."""

    phones: Counter[int] = field(default_factory=Counter)
    emails: Counter[int] = field(default_factory=Counter)
    keys: Counter[int] = field(default_factory=Counter)
    customers: int = 0


def _load_around(ctx: ServiceContext, focus: set[int]) -> tuple[list[_Row], _Counts]:
    """The rows that can form a pair with a ``focus`` customer, in two streaming passes.

    The first pass counts every phone, email and name key, notes the focus customers' own,
    and keeps of every row only its id, its three hashes and whether it can be split (in
    arrays: 33 bytes a customer); which rows can pair is then decided from those arrays —
    the rows sharing a phone or email with a focus customer, or its name key, and of a name
    block too large to compare whole only the rows its split by birthday or by city and
    industry can pair. The second pass reads the rows again and builds (spells) only those.
    So memory follows the candidate pairs, not the customer count (the check after
    importing 100k customers used to hold them all, with every name's cached pinyin), and
    each name is spelled once (the second pass used to spell every name again to find its
    key: nearly half the check). Names are spelled without the cache: in one pass over
    distinct names a cache only holds memory."""
    counts = _Counts()
    phones: set[int] = set()
    emails: set[int] = set()
    keys: set[int] = set()
    ids = array("q")
    phone_h, email_h, key_h = array("q"), array("q"), array("q")
    flags = bytearray()  # bit 0, 1, 2: phone, email, name key present; bit 3: splittable
    for r in _stream_raw(ctx):
        # What _row would make of r, without the spelled and flat forms this pass never reads.
        counts.customers += 1
        phone, email = _contacts(r)
        key = _name_key_once(r.name, r.kind == "enterprise")
        flag = 8 if r.birthday or ((r.city or "").strip() and (r.industry or "").strip()) else 0
        mine = r.id in focus
        ids.append(r.id)
        p = e = k = 0
        if phone:
            flag |= 1
            p = hash(phone)
            counts.phones[p] += 1
            if mine:
                phones.add(p)
        if email:
            flag |= 2
            e = hash(email)
            counts.emails[e] += 1
            if mine:
                emails.add(e)
        if key:
            flag |= 4
            k = hash(key)
            counts.keys[k] += 1
            if mine:
                keys.add(k)
        phone_h.append(p)
        email_h.append(e)
        key_h.append(k)
        flags.append(flag)
    wanted: set[int] = set()
    for i, cid in enumerate(ids):
        flag = flags[i]
        p, e, k = phone_h[i], email_h[i], key_h[i]
        if (
            (flag & 1 and p in phones and 1 < counts.phones[p] <= MAX_CONTACT_BLOCK)
            or (flag & 2 and e in emails and 1 < counts.emails[e] <= MAX_CONTACT_BLOCK)
            or (
                flag & 4
                and k in keys
                and counts.keys[k] > 1
                and (counts.keys[k] <= MAX_NAME_BLOCK or flag & 8)
            )
        ):
            wanted.add(cid)
    del ids, phone_h, email_h, key_h, flags
    rows = [_row(r, _name_parts_once) for r in _stream_raw(ctx) if r.id in wanted] if wanted else []
    return rows, counts


def _name_similarity(a: _Row, b: _Row) -> tuple[float, str]:
    """(similarity 0..1, how): same written name, same pinyin, or fuzzy ratio."""
    if a.flat and a.flat == b.flat:
        return 1.0, "same"
    if a.key and a.key == b.key:
        return 0.95, "pinyin"
    direct = fuzz.ratio(a.flat, b.flat) / 100
    spelled = fuzz.token_sort_ratio(a.spelled, b.spelled) / 100 * 0.95
    return (direct, "similar") if direct >= spelled else (spelled, "similar_pinyin")


def pair_score(a: _Row, b: _Row) -> tuple[float, float, str]:
    """(score, name similarity, how the names matched); score 0 = not a probable duplicate.

    Kept free of string work: it runs for every pair in every block."""
    sim, how = _name_similarity(a, b)
    same_phone = bool(a.phone and a.phone == b.phone)
    same_email = bool(a.email and a.email == b.email)
    if same_phone or same_email:
        score = 0.7 + 0.3 * sim + (0.05 if same_phone and same_email else 0.0)
        return round(min(score, 1.0), 3), sim, how
    if a.birthday and b.birthday and a.birthday != b.birthday:
        return 0.0, sim, how
    if sim < MIN_NAME_SIMILARITY:
        return 0.0, sim, how
    support = 0.0
    if a.birthday and a.birthday == b.birthday:
        support += 0.35
    if a.city and a.city == b.city:
        support += 0.10
    if a.industry and a.industry == b.industry:
        support += 0.10
    if support == 0:
        return 0.0, sim, how
    score = 0.55 * sim + support
    if a.phone and b.phone:
        score -= 0.15
    if a.email and b.email:
        score -= 0.10
    return round(max(0.0, min(score, 1.0)), 3), sim, how


def pair_reasons(a: _Row, b: _Row, sim: float, how: str) -> list[str]:
    """Which fields matched and how, for a pair :func:`pair_score` accepted."""
    if how == "same":
        reasons = [_("name: same ({name})").format(name=a.name)]
    elif how == "pinyin":
        reasons = [
            _("name: same pinyin ({a} / {b} = {pinyin})").format(
                a=a.name, b=b.name, pinyin=a.spelled
            )
        ]
    elif sim >= 0.5:
        reasons = [
            _("name: similar {similarity} ({a} / {b})").format(
                similarity=f"{sim:.2f}", a=a.name, b=b.name
            )
        ]
    else:
        reasons = [_("name: different ({a} / {b})").format(a=a.name, b=b.name)]
    same_phone = bool(a.phone and a.phone == b.phone)
    same_email = bool(a.email and a.email == b.email)
    if same_phone:
        reasons.append(_("phone: same ({value})").format(value=a.phone))
    if same_email:
        reasons.append(_("email: same ({value})").format(value=a.email))
    if a.birthday and a.birthday == b.birthday:
        reasons.append(_("birthday: same ({value})").format(value=a.birthday.isoformat()))
    if same_phone or same_email:
        return reasons
    if a.city and a.city == b.city:
        reasons.append(_("city: same ({value})").format(value=a.city))
    if a.industry and a.industry == b.industry:
        reasons.append(_("industry: same ({value})").format(value=a.industry))
    if a.phone and b.phone:
        reasons.append(_("phone: different"))
    if a.email and b.email:
        reasons.append(_("email: different"))
    return reasons


def score_pair(a: _Row, b: _Row) -> tuple[float, list[str]]:
    """The pair's score and reasons; score 0 means "not a probable duplicate"."""
    score, sim, how = pair_score(a, b)
    return (score, pair_reasons(a, b, sim, how)) if score > 0 else (0.0, [])


def _without_shared_contacts(rows: list[_Row], counts: _Counts | None = None) -> list[_Row]:
    """A phone or email on more than MAX_CONTACT_BLOCK customers is a shared line (a shop's
    switchboard, an office inbox): it is evidence of nothing, so it is dropped before scoring.
    ``counts`` are the whole base's when ``rows`` are only part of it."""
    if counts is None:
        counts = _Counts(
            Counter(hash(r.phone) for r in rows if r.phone),
            Counter(hash(r.email) for r in rows if r.email),
        )
    out = []
    for r in rows:
        shared_phone = bool(r.phone and counts.phones[hash(r.phone)] > MAX_CONTACT_BLOCK)
        shared_email = bool(r.email and counts.emails[hash(r.email)] > MAX_CONTACT_BLOCK)
        if shared_phone or shared_email:
            r = r._replace(
                phone=None if shared_phone else r.phone,
                email=None if shared_email else r.email,
            )
        out.append(r)
    return out


def _blocks(
    rows: list[_Row], capped: list[str], counts: _Counts | None = None
) -> Iterable[list[_Row]]:
    """Blocks of rows to compare pairwise; a name block's size is the whole base's
    (``counts``) when ``rows`` are only the part around some customers."""
    by_phone: dict[str, list[_Row]] = defaultdict(list)
    by_email: dict[str, list[_Row]] = defaultdict(list)
    by_name: dict[str, list[_Row]] = defaultdict(list)
    for r in rows:
        if r.phone:
            by_phone[r.phone].append(r)
        if r.email:
            by_email[r.email].append(r)
        if r.key:
            by_name[r.key].append(r)
    for label, table in (("phone", by_phone), ("email", by_email)):
        for value, members in table.items():
            if len(members) > MAX_CONTACT_BLOCK:
                capped.append(
                    _("{field} {value}: {count} customers").format(
                        field=label, value=value, count=len(members)
                    )
                )
            elif len(members) > 1:
                yield members
    for key, members in by_name.items():
        if len(members) < 2:
            continue
        size = len(members) if counts is None else counts.keys[hash(key)]
        if size <= MAX_NAME_BLOCK:
            yield members
            continue
        capped.append(
            _("name {key}: {count} customers, split by birthday and by city with industry").format(
                key=key, count=size
            )
        )
        sub: dict[object, list[_Row]] = defaultdict(list)
        for r in members:
            if r.birthday:
                sub[("birthday", r.birthday)].append(r)
            if r.city and r.industry:
                sub[("city", r.city, r.industry)].append(r)
        for part in sub.values():
            if 1 < len(part) <= MAX_NAME_BLOCK:
                yield part


def _not_duplicates(ctx: ServiceContext) -> set[tuple[int, int]]:
    with ctx.session() as s:
        return {
            (min(a, b), max(a, b))
            for a, b in s.execute(sa.select(N.customer_a_id, N.customer_b_id))
        }


@paused_during
def scan_duplicates(
    ctx: ServiceContext,
    *,
    min_score: float = DEFAULT_MIN_SCORE,
    customer_ids: Iterable[int] | None = None,
) -> DuplicateScan:
    """Every probable-duplicate group; with ``customer_ids``, only groups involving them
    (read in two streaming passes that keep only the rows that can pair with them; the
    capped blocks listed are then those around them)."""
    focus = None if customer_ids is None else set(customer_ids)
    counts: _Counts | None = None
    if focus is None:
        rows = _load(ctx)
    else:
        rows, counts = _load_around(ctx, focus)
    excluded = _not_duplicates(ctx)
    capped: list[str] = []
    scored_by_id = {r.id: r for r in _without_shared_contacts(rows, counts)}
    seen: set[tuple[int, int]] = set()
    found: dict[tuple[int, int], tuple[float, list[str]]] = {}
    compared = 0
    for block in _blocks(rows, capped, counts):
        if focus is not None and not any(r.id in focus for r in block):
            continue
        block = [scored_by_id[r.id] for r in block]
        for a, b in combinations(block, 2):
            pair = (a.id, b.id) if a.id < b.id else (b.id, a.id)
            if pair in seen:
                continue
            seen.add(pair)
            if pair in excluded or (focus is not None and a.id not in focus and b.id not in focus):
                continue
            compared += 1
            score, sim, how = pair_score(a, b)
            if score >= min_score and score > 0:
                found[pair] = (score, pair_reasons(a, b, sim, how))
    by_id = {r.id: r for r in rows}
    return DuplicateScan(
        groups=_group(found, by_id),
        customers=len(rows) if counts is None else counts.customers,
        pairs_compared=compared,
        capped_blocks=capped,
    )


def _group(
    found: dict[tuple[int, int], tuple[float, list[str]]], by_id: dict[int, _Row]
) -> list[DuplicateGroup]:
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in found:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    members: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for pair in found:
        members[root(pair[0])].append(pair)
    groups = []
    for pairs in members.values():
        ids = sorted({i for p in pairs for i in p})
        dpairs = [
            DuplicatePair((by_id[a].code, by_id[b].code), found[(a, b)][0], tuple(found[(a, b)][1]))
            for a, b in sorted(pairs, key=lambda p: -found[p][0])
        ]
        reasons: list[str] = []
        for p in dpairs:
            for r in p.reasons:
                if r not in reasons:
                    reasons.append(r)
        groups.append(
            DuplicateGroup(
                codes=[by_id[i].code for i in ids],
                score=max(p.score for p in dpairs),
                reasons=reasons,
                pairs=dpairs,
            )
        )
    groups.sort(key=lambda g: (-g.score, g.codes))
    return groups


def probable_duplicates(
    ctx: ServiceContext,
    *,
    min_score: float = DEFAULT_MIN_SCORE,
    customer_ids: Iterable[int] | None = None,
) -> list[DuplicateGroup]:
    """Groups of probable duplicates, strongest first (see the module docstring)."""
    return scan_duplicates(ctx, min_score=min_score, customer_ids=customer_ids).groups


def name_key_for(name: str, kind: str = "individual") -> str:
    """The blocking key of a name (exposed for imports and tests)."""
    return name_key(name, kind == "enterprise")
