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
from types import SimpleNamespace
from typing import Any, NamedTuple

import sqlalchemy as sa
from rapidfuzz import fuzz

from tricrm_tui.i18n import _
from tricrm_tui.models import Customer, NotDuplicate
from tricrm_tui.services.collector import paused_during
from tricrm_tui.services.context import ServiceContext
from tricrm_tui.services.customers import active_condition
from tricrm_tui.services.names import (
    clean_name,
    name_key,
    name_variants,
    name_variants_once,
)
from tricrm_tui.services.regions import city_key

C = Customer.__table__.c
N = NotDuplicate.__table__.c

MAX_NAME_BLOCK = 200
"""A name shared by more customers than this is compared only within the same birthday or
the same city and industry (200 customers are ~20k pairs; 5,000 would be 12.5M); a birthday
block this large (a default date typed for everyone) is compared only by name."""
MAX_CONTACT_BLOCK = 50
"""A phone or email on more customers than this is a shared line, not one person."""
MIN_NAME_SIMILARITY = 0.85
DIFFERENT_NAMES = 0.5
"""Below this name similarity, a shared phone or email alone is not a duplicate: a family's
landline, an office inbox, a shop's number typed for a walk-in."""
FUZZY_AFFIXES = (3, 4, 5)
"""Customers of the same city and industry meet when their name keys share the first or the
last three letters, so one typo (Jon / John Smith, Katherine / Catherine) still meets; where
three letters gather more than MAX_FUZZY_BLOCK customers (one industry for a whole city),
four or five letters split them."""
MAX_FUZZY_BLOCK = 30
"""A name-affix block is compared whole up to this size (435 pairs): with every customer of
a 100k base given one of five industries in twelve cities, blocks of 200 compared 3.8M
pairs and took 13 s, blocks of 50 took 9.4 s, these 7.6 s."""
DEFAULT_MIN_SCORE = 0.7
_STREAM_BLOCK = 5000

# What a block gathers: the kind decides its cap and how a capped one is reported.
_PHONE, _EMAIL, _NAME, _BIRTHDAY, _NAME_BIRTHDAY, _NAME_CITY, _FUZZY = range(7)
_CONTACT_KINDS = (_PHONE, _EMAIL)

# Values typed when a customer has none: evidence of nothing, so read as empty.
_PLACEHOLDER_LOCAL = frozenset(
    [
        "n/a",
        "na",
        "none",
        "null",
        "nil",
        "noreply",
        "no-reply",
        "no_reply",
        "donotreply",
        "do-not-reply",
        "noemail",
        "no-email",
        "nomail",
        "unknown",
        "test",
        "xxx",
        "x",
        "-",
        "无",
        "no",
    ]
)
_PLACEHOLDER_DOMAINS = frozenset(("invalid", "localhost", "none", "null", "example.invalid"))
_RUNS = "01234567890123456789", "98765432109876543210"


def placeholder_phone(phone: str) -> bool:
    """A number typed for "no phone": all one digit, a mobile whose last eight digits are one
    digit (13800000000, 13888888888), or a counting run (12345678901). 13800138000 is not
    one: it is a real switchboard and the test data's favourite number."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if phone.startswith("+86"):
        digits = digits[2:]
    if len(digits) < 5:
        return True
    if len(set(digits)) == 1:
        return True
    if len(digits) == 11 and digits[0] == "1" and len(set(digits[3:])) == 1:
        return True
    return len(digits) >= 7 and any(digits in run for run in _RUNS)


def placeholder_email(email: str) -> bool:
    """An address typed for "no email" (n/a@…, none@…, noreply@…, anything @invalid)."""
    local, _at, domain = email.rpartition("@")
    return (
        not local
        or local in _PLACEHOLDER_LOCAL
        or domain in _PLACEHOLDER_DOMAINS
        or domain.endswith(".invalid")
    )


class _Row(NamedTuple):
    """One customer's matching fields (a tuple: 100k of them build in a fraction of a second)."""

    id: int
    code: str
    name: str
    enterprise: bool
    phone: str | None
    email: str | None
    birthday: dt.date | None
    city: str | None  # as :func:`~tricrm_tui.services.regions.city_key` compares it
    industry: str | None
    key: str  # the name key under the everyday reading
    flat: str  # cleaned name, for direct comparison
    spelled: str  # pinyin tokens, surname first
    keys: tuple[str, ...]  # the name key under every reading of its polyphones, key first
    spellings: tuple[str, ...]  # the pinyin tokens of each of ``keys``


Parts = tuple[tuple[str, ...], str, tuple[str, ...]]


def _parts(variants: list[list[str]], name: str, enterprise: bool) -> Parts:
    keys: list[str] = []
    spellings: list[str] = []
    for tokens in variants:
        key = "".join(sorted(tokens))
        if key and key not in keys:
            keys.append(key)
            spellings.append(" ".join(tokens))
    return tuple(keys), clean_name(name, enterprise).replace(" ", ""), tuple(spellings)


@lru_cache(maxsize=262144)
def _name_parts(name: str, enterprise: bool) -> Parts:
    """(blocking keys, cleaned name without spaces, pinyin tokens joined), cached per name."""
    return _parts(name_variants(name, enterprise), name, enterprise)


def _name_parts_once(name: str, enterprise: bool) -> Parts:
    """:func:`_name_parts` uncached, for the streaming passes (a few µs a name)."""
    return _parts(name_variants_once(name, enterprise), name, enterprise)


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
PartsOf = Callable[[str, bool], Parts]


def _contacts(r: Any) -> tuple[str | None, str | None]:
    """A fetched row's phone and email as matching compares them (placeholders as none)."""
    phone = r.phone or None
    email = (r.email or "").strip().lower() or None
    if phone and placeholder_phone(phone):
        phone = None
    if email and placeholder_email(email):
        email = None
    return phone, email


def _place(r: Any) -> tuple[str | None, str | None]:
    """A fetched row's city key and industry."""
    return city_key(r.city), (r.industry or "").strip().lower() or None


def _row(r: Any, parts: PartsOf) -> _Row:
    ent = r.kind == "enterprise"
    keys, flat, spellings = parts(r.name, ent)
    phone, email = _contacts(r)
    city, industry = _place(r)
    return _Row(
        r.id,
        r.code,
        r.name,
        ent,
        phone,
        email,
        r.birthday,
        city,
        industry,
        keys[0] if keys else "",
        flat,
        spellings[0] if spellings else "",
        keys,
        spellings,
    )


def _block_ids(
    phone: str | None,
    email: str | None,
    keys: Iterable[str],
    birthday: dt.date | None,
    city: str | None,
    industry: str | None,
) -> list[tuple[int, tuple[Any, ...]]]:
    """The blocks a customer is in, as (kind, what the members share).

    A name block's birthday and city-with-industry parts are always listed: inside a name
    block small enough to compare whole their pairs are already compared (and skipped as
    seen), and they are what a name block too large to compare is split into."""
    out: list[tuple[int, tuple[Any, ...]]] = []
    if phone:
        out.append((_PHONE, (phone,)))
    if email:
        out.append((_EMAIL, (email,)))
    for key in keys:
        out.append((_NAME, (key,)))
        if birthday:
            out.append((_NAME_BIRTHDAY, (key, birthday)))
        if city and industry:
            out.append((_NAME_CITY, (key, city, industry)))
    if birthday:
        out.append((_BIRTHDAY, (birthday,)))
    if city and industry:
        for key in keys:
            for n in FUZZY_AFFIXES:
                if len(key) > n:
                    out.append((_FUZZY, (city, industry, key[:n], "")))
                    out.append((_FUZZY, (city, industry, "", key[-n:])))
    # Once each: two readings of a polyphone (王重阳: chongyang / zhongyang) share an
    # affix, and a customer twice in a block was paired with itself.
    return list(dict.fromkeys(out))


def _block_hash(kind: int, value: tuple[Any, ...]) -> int:
    return hash((kind, value))


def _cap(kind: int) -> int:
    if kind == _FUZZY:
        return MAX_FUZZY_BLOCK
    return MAX_CONTACT_BLOCK if kind in _CONTACT_KINDS else MAX_NAME_BLOCK


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
    """How many customers each block holds, by the block's hash (8 bytes each)."""

    blocks: Counter[int] = field(default_factory=Counter)
    customers: int = 0
    affix_uncompared: int = 0
    """Focus customers in some name-affix block too large to compare and in none small
    enough: counted from the hashes, since such a customer may share no block with anyone
    read around the focus (reading every focus customer for this cost a 100k import's
    follow-up scan 140 MB and 3 s)."""


def _load_around(ctx: ServiceContext, focus: set[int]) -> tuple[list[_Row], _Counts]:
    """The rows that can form a pair with a ``focus`` customer, in two streaming passes.

    The first pass counts every block (phone, email, name keys, birthday, city with
    industry and name affix) and keeps of every row only its id and its blocks' hashes (in
    arrays: ~60 bytes a customer); the blocks of the focus customers that are small enough
    to compare then say which rows can pair with them. The second pass reads the rows again
    and builds (spells) only those. So memory follows the candidate pairs, not the customer
    count, and each name is spelled once per pass. Names are spelled without the cache: in
    one pass over distinct names a cache only holds memory."""
    counts = _Counts()
    ids = array("q")
    ends = array("q")  # the end of each row's hashes in ``hashes``
    hashes = array("q")
    kinds = bytearray()
    mine: list[tuple[int, int]] = []
    for r in _stream_raw(ctx):
        counts.customers += 1
        phone, email = _contacts(r)
        city, industry = _place(r)
        keys = _name_parts_once(r.name, r.kind == "enterprise")[0]
        in_focus = r.id in focus
        for kind, value in _block_ids(phone, email, keys, r.birthday, city, industry):
            h = _block_hash(kind, value)
            counts.blocks[h] += 1
            hashes.append(h)
            kinds.append(kind)
            if in_focus:
                mine.append((kind, h))
        ids.append(r.id)
        ends.append(len(hashes))
    near = {h for kind, h in mine if 1 < counts.blocks[h] <= _cap(kind)}
    # The focus customers' affix blocks too large to compare, and those small enough.
    too_large = {h for kind, h in mine if kind == _FUZZY and counts.blocks[h] > _cap(kind)}
    compared = {h for kind, h in mine if kind == _FUZZY and h in near}
    wanted: set[int] = set()
    start = 0
    for i, cid in enumerate(ids):
        end = ends[i]
        if any(hashes[j] in near for j in range(start, end)):
            wanted.add(cid)
        if too_large and cid in focus:
            own = hashes[start:end]
            if not too_large.isdisjoint(own) and compared.isdisjoint(own):
                counts.affix_uncompared += 1
        start = end
    del ids, ends, hashes, kinds
    rows = [_row(r, _name_parts_once) for r in _stream_raw(ctx) if r.id in wanted] if wanted else []
    return rows, counts


def _shared_key(a: _Row, b: _Row) -> str | None:
    """The pinyin both names read as, under some reading of their polyphones, else None."""
    if a.key and a.key == b.key:
        return a.spelled
    for key, spelled in zip(a.keys, a.spellings, strict=True):
        if key and key in b.keys:
            return spelled if len(a.keys) == 1 or len(b.keys) > 1 else b.spelled
    return None


def _name_similarity(a: _Row, b: _Row) -> tuple[float, str]:
    """(similarity 0..1, how): same written name, same pinyin, or fuzzy ratio."""
    if a.flat and a.flat == b.flat:
        return 1.0, "same"
    if _shared_key(a, b) is not None:
        return 0.95, "pinyin"
    # Names of no Latin or Han letters (김민준, やまだ, 😀) have no spelling: two empty
    # spellings are no likeness (rapidfuzz rates "" against "" 100).
    direct = fuzz.ratio(a.flat, b.flat) / 100 if a.flat and b.flat else 0.0
    spelled = (
        fuzz.token_sort_ratio(a.spelled, b.spelled) / 100 * 0.95 if a.spelled and b.spelled else 0.0
    )
    return (direct, "similar") if direct >= spelled else (spelled, "similar_pinyin")


def pair_score(a: _Row, b: _Row) -> tuple[float, float, str]:
    """(score, name similarity, how the names matched); score 0 = not a probable duplicate.

    Kept free of string work where it can be: it runs for every pair in every block, and
    most pairs of a birthday block are strangers ruled out before their names are read."""
    same_phone = bool(a.phone and a.phone == b.phone)
    same_email = bool(a.email and a.email == b.email)
    same_birthday = bool(a.birthday and a.birthday == b.birthday)
    if not (same_phone or same_email) and a.birthday and b.birthday and not same_birthday:
        return 0.0, 0.0, ""
    sim, how = _name_similarity(a, b)
    if same_phone or same_email:
        if sim < DIFFERENT_NAMES and not same_birthday:
            return 0.0, sim, how
        score = 0.7 + 0.3 * sim + (0.05 if same_phone and same_email else 0.0)
        return round(min(score, 1.0), 3), sim, how
    if sim < MIN_NAME_SIMILARITY:
        return 0.0, sim, how
    support = 0.0
    if same_birthday:
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
                a=a.name, b=b.name, pinyin=_shared_key(a, b) or a.spelled
            )
        ]
    elif sim >= DIFFERENT_NAMES:
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
    switchboard, an office inbox), and a birthday on more than MAX_NAME_BLOCK a default date:
    they are evidence of nothing, so they are dropped before scoring.
    ``counts`` are the whole base's when ``rows`` are only part of it."""
    if counts is None:
        counts = _Counts(
            Counter(_block_hash(_PHONE, (r.phone,)) for r in rows if r.phone)
            + Counter(_block_hash(_EMAIL, (r.email,)) for r in rows if r.email)
            + Counter(_block_hash(_BIRTHDAY, (r.birthday,)) for r in rows if r.birthday)
        )
    out = []
    for r in rows:
        shared_phone = bool(
            r.phone and counts.blocks[_block_hash(_PHONE, (r.phone,))] > MAX_CONTACT_BLOCK
        )
        shared_email = bool(
            r.email and counts.blocks[_block_hash(_EMAIL, (r.email,))] > MAX_CONTACT_BLOCK
        )
        # A birthday on more customers than a name block holds is a default typed for
        # everyone (1900-01-01), as is any date before 1901: no evidence either.
        default_birthday = r.birthday is not None and (
            r.birthday.year <= 1900
            or counts.blocks[_block_hash(_BIRTHDAY, (r.birthday,))] > MAX_NAME_BLOCK
        )
        if shared_phone or shared_email or default_birthday:
            r = r._replace(
                phone=None if shared_phone else r.phone,
                email=None if shared_email else r.email,
                birthday=None if default_birthday else r.birthday,
            )
        out.append(r)
    return out


def _capped_note(kind: int, value: tuple[Any, ...], count: int) -> str | None:
    """What the scan says about a block too large to compare (None: nothing to say)."""
    if kind in _CONTACT_KINDS:
        return _("{field} {value}: {count} customers").format(
            field="phone" if kind == _PHONE else "email", value=value[0], count=count
        )
    if kind == _NAME:
        return _(
            "name {key}: {count} customers, split by birthday and by city with industry"
        ).format(key=value[0], count=count)
    if kind == _BIRTHDAY:
        return _("birthday {value}: {count} customers, compared only by name").format(
            value=value[0].isoformat(), count=count
        )
    return None  # a name's part, or city-with-industry customers sharing a name affix


def _blocks(
    rows: list[_Row], capped: list[str], counts: _Counts | None = None
) -> Iterable[list[_Row]]:
    """Blocks of rows to compare pairwise, each at most its kind's cap; a block's size is
    the whole base's (``counts``) when ``rows`` are only the part around some customers."""
    table: dict[tuple[int, tuple[Any, ...]], list[_Row]] = defaultdict(list)
    for r in rows:
        for block in _block_ids(r.phone, r.email, r.keys, r.birthday, r.city, r.industry):
            table[block].append(r)
    # The whole scan: customers in an affix block too large to compare, and those in one
    # small enough; the first without the second are never compared for a misspelt name,
    # which the scan says. Around some customers ``_load_around`` counted them already.
    whole = counts is None
    in_affix: set[int] = set()
    affix_compared: set[int] = set()
    for (kind, value), members in sorted(table.items(), key=lambda item: item[0][0]):
        size = len(members) if counts is None else counts.blocks[_block_hash(kind, value)]
        if whole and kind == _FUZZY and size > _cap(kind):
            in_affix.update(r.id for r in members)
        if len(members) < 2:
            continue
        if size <= _cap(kind):
            if whole and kind == _FUZZY:
                affix_compared.update(r.id for r in members)
            yield members
            continue
        note = _capped_note(kind, value, size)
        if note is not None:
            capped.append(note)
    uncompared = len(in_affix - affix_compared) if counts is None else counts.affix_uncompared
    if uncompared:
        capped.append(
            _(
                "{count} customers not compared for misspelt names: more than {cap} others "
                "of their city and industry share each of their name's first and last letters"
            ).format(count=uncompared, cap=MAX_FUZZY_BLOCK)
        )


def _not_duplicates(ctx: ServiceContext) -> set[tuple[int, int]]:
    with ctx.session() as s:
        return {
            (min(a, b), max(a, b))
            for a, b in s.execute(sa.select(N.customer_a_id, N.customer_b_id))
        }


Found = dict[tuple[int, int], tuple[float, list[str]]]


def _found_pairs(
    rows: list[_Row],
    counts: _Counts | None,
    focus: set[int] | None,
    excluded: set[tuple[int, int]],
    min_score: float,
) -> tuple[Found, int, list[str]]:
    """(probable-duplicate pairs with their score and reasons, pairs compared, capped blocks);
    with ``focus``, only pairs involving one of those customers."""
    capped: list[str] = []
    scored_by_id = {r.id: r for r in _without_shared_contacts(rows, counts)}
    seen: set[tuple[int, int]] = set()
    found: Found = {}
    compared = 0
    for block in _blocks(rows, capped, counts):
        if focus is not None and not any(r.id in focus for r in block):
            continue
        block = [scored_by_id[r.id] for r in block]
        for a, b in combinations(block, 2):
            pair = (a.id, b.id) if a.id < b.id else (b.id, a.id)
            if pair in seen or a.id == b.id:
                continue
            seen.add(pair)
            if pair in excluded or (focus is not None and a.id not in focus and b.id not in focus):
                continue
            compared += 1
            score, sim, how = pair_score(a, b)
            if score >= min_score and score > 0:
                found[pair] = (score, pair_reasons(a, b, sim, how))
    return found, compared, capped


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
    found, compared, capped = _found_pairs(rows, counts, focus, excluded, min_score)
    by_id = {r.id: r for r in rows}
    return DuplicateScan(
        groups=_group(found, by_id, excluded),
        customers=len(rows) if counts is None else counts.customers,
        pairs_compared=compared,
        capped_blocks=capped,
    )


def _components(pairs: Iterable[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """The pairs in connected groups (union–find)."""
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    pairs = list(pairs)
    for a, b in pairs:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    members: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for pair in pairs:
        members[root(pair[0])].append(pair)
    return list(members.values())


def _apart(
    pairs: list[tuple[int, int]], found: Found, excluded: set[tuple[int, int]]
) -> list[list[tuple[int, int]]]:
    """A connected group split so that no part holds two customers recorded as different.

    Pairs join parts strongest first, and two parts join only when no recorded pair lies
    between them; a pair whose ends stay in different parts is offered as a group of its
    own. So after "A1 and A2 are different", A1–A3 and A2–A3 are two groups, and merging
    either cannot merge A1 with A2."""
    ids = {i for p in pairs for i in p}
    apart: dict[int, set[int]] = defaultdict(set)
    for a, b in excluded:
        if a in ids and b in ids:
            apart[a].add(b)
            apart[b].add(a)
    if not apart:
        return [pairs]
    part_of = {i: i for i in ids}
    parts: dict[int, set[int]] = {i: {i} for i in ids}
    inside: dict[int, list[tuple[int, int]]] = {i: [] for i in ids}
    alone: list[list[tuple[int, int]]] = []
    for pair in sorted(pairs, key=lambda p: (-found[p][0], p)):
        pa, pb = part_of[pair[0]], part_of[pair[1]]
        if pa == pb:
            inside[pa].append(pair)
            continue
        if any(apart[m] & parts[pb] for m in parts[pa]):
            alone.append([pair])
            continue
        keep, gone = min(pa, pb), max(pa, pb)
        for m in parts[gone]:
            part_of[m] = keep
        parts[keep] |= parts.pop(gone)
        inside[keep] += [*inside.pop(gone), pair]
    return [p for p in inside.values() if p] + alone


def _group(
    found: Found, by_id: dict[int, _Row], excluded: set[tuple[int, int]] | None = None
) -> list[DuplicateGroup]:
    groups = []
    for component in _components(found):
        for pairs in _apart(component, found, excluded or set()):
            ids = sorted({i for p in pairs for i in p})
            dpairs = [
                DuplicatePair(
                    (by_id[a].code, by_id[b].code), found[(a, b)][0], tuple(found[(a, b)][1])
                )
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


def scores_before(
    ctx: ServiceContext,
    pairs: Iterable[tuple[str, str]],
    before: dict[str, dict[str, Any]],
) -> dict[tuple[str, str], float]:
    """Each pair's score (by codes) with some customers' fields as they were: ``before`` maps
    a code to the old values of the fields that changed since (an import's audit ``before``).

    For telling the duplicates an import made from those it found already there. The
    block caps and shared lines are not re-applied: the pairs are few and already found."""
    pairs = list(pairs)
    codes = sorted({c for p in pairs for c in p})
    rows: dict[str, _Row] = {}
    with ctx.session() as s:
        for start in range(0, len(codes), 5000):
            chunk = codes[start : start + 5000]
            for r in s.execute(sa.select(*_COLUMNS).where(C.code.in_(chunk))):
                values = r._asdict()
                for name, old in before.get(r.code, {}).items():
                    if name in values and name not in ("id", "code"):
                        values[name] = _as_date(old) if name == "birthday" else old
                rows[r.code] = _row(SimpleNamespace(**values), _name_parts)
    return {
        (a, b): pair_score(rows[a], rows[b])[0] if a in rows and b in rows else 0.0
        for a, b in pairs
    }


def _as_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


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
