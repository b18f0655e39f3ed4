"""Which column of a file feeds which field: Chinese and English headers recognised by
synonym, a TOML file for the rest, and every unknown customer column kept as a custom field.

A header is compared after folding width and case and dropping spaces, underscores, hyphens
and dots, so ``Customer_Code``, ``customer code`` and ``ＣＯＤＥ`` are the same header.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from tricrm_tui.i18n import _
from tricrm_tui.labels import N_
from tricrm_tui.services.errors import InvalidInput

KINDS = ("customers", "orders", "interactions")
CUSTOM_PREFIX = "custom:"

_CUSTOMER_CODE = (
    "客户编号",
    "客户代码",
    "客户号",
    "会员号",
    "会员编号",
    "customer code",
    "customer no",
    "customer number",
    "customer id",
)

SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "customers": {
        "code": _CUSTOMER_CODE + ("编号", "code", "id", "external id", "account code"),
        "name": (
            "客户名称",
            "姓名",
            "名称",
            "客户姓名",
            "公司名称",
            "企业名称",
            "name",
            "customer name",
            "full name",
            "customer",
            "company name",
        ),
        "kind": ("客户类型", "类型", "客户类别", "kind", "type", "customer type"),
        "industry": ("所属行业", "行业", "industry", "sector"),
        "size": ("企业规模", "规模", "size", "company size", "size band"),
        "province": ("省份", "省", "所在省份", "province", "state"),
        "city": ("城市", "市", "所在城市", "city"),
        "address": ("地址", "详细地址", "联系地址", "通讯地址", "address", "street address"),
        "phone": (
            "手机号码",
            "手机",
            "电话",
            "手机号",
            "联系电话",
            "电话号码",
            "移动电话",
            "phone",
            "mobile",
            "telephone",
            "tel",
            "phone number",
            "mobile phone",
            "cell",
        ),
        "email": ("电子邮箱", "邮箱", "电子邮件", "email", "e-mail", "mail", "email address"),
        "birthday": ("生日", "出生日期", "birthday", "birth date", "date of birth", "dob"),
        "registered": (
            "注册日期",
            "注册时间",
            "开户日期",
            "入会日期",
            "registered",
            "registered on",
            "registration date",
            "signup date",
            "created",
        ),
        "source": ("客户来源", "来源", "来源渠道", "source", "source channel", "lead source"),
        "owner": ("负责人", "客户经理", "归属人", "owner", "account owner", "sales rep"),
        "notes": ("备注", "说明", "notes", "note", "remarks", "remark", "comment", "comments"),
        "tags": ("标签", "客户标签", "tags", "tag", "labels"),
    },
    "orders": {
        "order_no": ("订单编号", "订单号", "单号", "order no", "order number", "order id", "order"),
        "customer_code": _CUSTOMER_CODE + ("customer", "code"),
        "date": ("下单日期", "订单日期", "下单时间", "日期", "order date", "date", "ordered on"),
        "amount": (
            "订单金额",
            "金额",
            "实付金额",
            "成交金额",
            "amount",
            "total",
            "order amount",
            "order total",
        ),
        "quantity": ("数量", "件数", "quantity", "qty"),
        "product": ("商品名称", "产品名称", "商品", "产品", "product", "product name", "item"),
        "category": (
            "商品类别",
            "产品类别",
            "商品分类",
            "类别",
            "品类",
            "category",
            "product category",
        ),
        "channel": ("渠道", "销售渠道", "下单渠道", "channel", "sales channel"),
        "currency": ("币种", "货币", "currency"),
        "status": ("订单状态", "状态", "status"),
    },
    "interactions": {
        "external_key": (
            "记录编号",
            "互动编号",
            "编号",
            "key",
            "external key",
            "interaction id",
            "id",
        ),
        "customer_code": _CUSTOMER_CODE + ("customer", "code"),
        "channel": ("渠道", "方式", "联系方式", "channel"),
        "occurred_at": (
            "时间",
            "日期",
            "联系时间",
            "发生时间",
            "occurred at",
            "date",
            "time",
            "when",
        ),
        "direction": ("方向", "呼叫方向", "direction"),
        "operator": ("操作员", "客服", "经办人", "operator", "agent"),
        "subject": ("主题", "标题", "subject"),
        "notes": ("备注", "内容", "notes", "note"),
        "outcome": ("结果", "outcome", "result"),
        "satisfaction": ("满意度", "satisfaction"),
        "follow_up": (
            "下次跟进",
            "下次跟进日期",
            "下次跟进时间",
            "跟进日期",
            "下次联系",
            "下次联系日期",
            "回访日期",
            "回访时间",
            "follow up",
            "follow up date",
            "next contact",
            "next follow up",
        ),
        "follow_up_reason": (
            "跟进事项",
            "跟进内容",
            "下一步",
            "回访事项",
            "follow up reason",
            "next step",
        ),
    },
}

REQUIRED = {
    "customers": ("code",),
    "orders": ("order_no", "customer_code", "date", "amount"),
    "interactions": ("external_key", "customer_code", "channel", "occurred_at"),
}

KEY_FIELD = {"customers": "code", "orders": "order_no", "interactions": "external_key"}

HOW_SYNONYM = N_("recognised header")
HOW_MAP_FILE = N_("mapping file")
HOW_CUSTOM = N_("kept as custom field")
HOW_IGNORED = N_("ignored")
HOW_CHOSEN = N_("chosen")

_FOLD = re.compile(r"[\s_\-.·:：（）()]+")


_TRADITIONAL = str.maketrans(
    "業產會別辦動單發號員實備屬幣歸錄態戶戸數時機來標滿狀電碼種稱簽籤類係繫細經結編聯規訂訊記話詳說負責貨郵銷間題額冊註內開",
    "业产会别办动单发号员实备属币归录态户户数时机来标满状电码种称签签类系系细经结编联规订讯记话详说负责货邮销间题额册注内开",
)
"""Traditional characters of the header synonyms, read as their simplified forms, so a Hong
Kong or Taiwan export's 客戶編號 or 手機號碼 maps as 客户编号 and 手机号码 do. A table of the
few dozen characters the synonyms use, rather than a converter library for headers alone."""


def header_key(header: str) -> str:
    return _FOLD.sub("", unicodedata.normalize("NFKC", header).casefold().translate(_TRADITIONAL))


REJECT_COLUMNS = ("error_line", "error_code", "error_field", "error_reason")
_REPEATED_REJECT_COLUMN = re.compile(r"(?:error_line|error_code|error_field|error_reason)_\d+")


def is_reject_column(column: str) -> bool:
    """A column a rejects file adds (``error_line_2`` and so on: a rejects file of a rejects
    file, as earlier versions wrote them), ignored when the file is imported again."""
    return column in REJECT_COLUMNS or _REPEATED_REJECT_COLUMN.fullmatch(column) is not None


DERIVED_COLUMNS = frozenset(
    header_key(h)
    for h in (
        "region", "order_count", "total_spent", "first_order", "last_order", "rfm_segment",
        "value_tier",
    )
)  # fmt: skip
"""Columns tricrm's own export writes that tricrm computes: ignored on import, so an
exported file imports back unchanged."""
CUSTOM_JSON = CUSTOM_PREFIX + "*"
"""Target of an exported ``custom_fields`` column: a JSON object merged into custom fields."""

_LOOKUP = {
    kind: {header_key(s): f for f, syns in fields.items() for s in (f, *syns)}
    for kind, fields in SYNONYMS.items()
}


@dataclass(frozen=True)
class ColumnTarget:
    column: str
    target: str | None  # a field name, "custom:<name>", or None (ignored)
    how: str


@dataclass(frozen=True)
class ColumnMapping:
    kind: str
    columns: tuple[ColumnTarget, ...]
    absent: tuple[tuple[str, str], ...] = ()
    """Mapping-file entries (column, target) naming a column this file does not have, for a
    field no other entry of the mapping fills from this file.

    A mapping may name alternatives for one field, so an absent column is no error by
    itself; but a misspelt column name used to vanish without a word, and it also kept its
    field from the file's own synonym column. Now it frees the field and is reported."""

    def absent_note(self) -> str | None:
        """One line naming the mapping's entries this file lacks, or None."""
        if not self.absent:
            return None
        return _("the mapping names column(s) this file does not have: {columns}").format(
            columns=", ".join(f"{column} → {target}" for column, target in self.absent)
        )

    def field_columns(self) -> dict[str, str]:
        """field → column (the first column wins when two name the same field)."""
        out: dict[str, str] = {}
        for c in self.columns:
            if c.target and not c.target.startswith(CUSTOM_PREFIX):
                out.setdefault(c.target, c.column)
        return out

    def custom_columns(self) -> dict[str, str]:
        """custom field name → column."""
        return {
            c.target[len(CUSTOM_PREFIX) :]: c.column
            for c in self.columns
            if c.target and c.target.startswith(CUSTOM_PREFIX)
        }

    def missing_required(self) -> list[str]:
        have = self.field_columns()
        return [f for f in REQUIRED[self.kind] if f not in have]

    def with_choice(self, column: str, target: str | None) -> ColumnMapping:
        """The mapping with one column pointed elsewhere (the TUI's per-column choice)."""
        return ColumnMapping(
            self.kind,
            tuple(
                ColumnTarget(c.column, target, HOW_CHOSEN) if c.column == column else c
                for c in self.columns
            ),
            self.absent,
        )


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise InvalidInput(
            _("unknown import kind: {kind} (customers, orders or interactions)").format(kind=kind),
            field="kind",
        )
    return kind


def read_mapping_file(path: Path | str) -> dict[str, str | None]:
    """``--map`` TOML: ``"列名" = "field"`` pairs at the top or under ``[columns]``; a value of
    ``""`` or ``"ignore"`` drops the column, ``"custom:名称"`` keeps it as a custom field."""
    try:
        # utf-8-sig: Windows Notepad starts a UTF-8 file with a byte-order mark.
        data = tomllib.loads(Path(path).read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            _("mapping file {file} is not UTF-8; save it as UTF-8").format(file=path),
            field="map",
        ) from exc
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(
            _("cannot read mapping file {file}: {error}").format(file=path, error=exc),
            field="map",
        ) from exc
    table = data.get("columns", data)
    out: dict[str, str | None] = {}
    for column, target in table.items():
        if not isinstance(target, str):
            continue
        out[column] = None if target.strip().lower() in ("", "ignore", "-") else target.strip()
    return out


def fields_for(kind: str) -> list[str]:
    return list(SYNONYMS[check_kind(kind)])


def build_mapping(
    kind: str, headers: list[str], overrides: dict[str, str | None] | None = None
) -> ColumnMapping:
    """Map each header: the mapping file first, then the synonyms; the rest become custom
    fields for customers (never dropped) and are ignored for orders and interactions, whose
    tables have nowhere to keep them (``--show-mapping`` says so)."""
    check_kind(kind)
    overrides = overrides or {}
    by_key = {header_key(k): v for k, v in overrides.items()}
    valid = set(SYNONYMS[kind])
    present = {header_key(h) for h in headers}
    # Only entries this file has claim their field; an absent one leaves the synonym free.
    taken: set[str] = {v for k, v in overrides.items() if v and header_key(k) in present}
    # Reported: absent entries whose field no present alternative fills.
    absent = tuple(
        (k, v)
        for k, v in overrides.items()
        if v and header_key(k) not in present and v not in taken
    )
    out: list[ColumnTarget] = []
    for column in headers:
        key = header_key(column)
        if is_reject_column(column) or (kind == "customers" and key in DERIVED_COLUMNS):
            out.append(ColumnTarget(column, None, HOW_IGNORED))
            continue
        if kind == "customers" and key == "customfields":
            out.append(ColumnTarget(column, CUSTOM_JSON, HOW_SYNONYM))
            continue
        if column in overrides or key in by_key:
            target = overrides.get(column, by_key.get(key))
            if target and not target.startswith(CUSTOM_PREFIX) and target not in valid:
                raise InvalidInput(
                    _("mapping file names an unknown field {field} (fields: {fields})").format(
                        field=target, fields=", ".join(sorted(valid))
                    ),
                    field="map",
                )
            if target and target.startswith(CUSTOM_PREFIX) and kind != "customers":
                target = None
            both = next((t.column for t in out if target and t.target == target), None)
            if both is not None:  # a mapping may name alternatives; a file holding two is a guess
                raise InvalidInput(
                    _("the mapping maps both {a} and {b} of this file to {field}").format(
                        a=both, b=column, field=target
                    ),
                    field="map",
                )
            out.append(ColumnTarget(column, target, HOW_MAP_FILE))
            continue
        target = _LOOKUP[kind].get(key)
        if target and target not in taken:
            taken.add(target)
            out.append(ColumnTarget(column, target, HOW_SYNONYM))
        elif kind == "customers":
            out.append(ColumnTarget(column, CUSTOM_PREFIX + column.strip(), HOW_CUSTOM))
        else:
            out.append(ColumnTarget(column, None, HOW_IGNORED))
    return ColumnMapping(kind, tuple(out), absent)
