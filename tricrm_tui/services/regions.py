"""China's 34 provincial divisions: their short and long forms and the region each lies in.

Customer files spell a province every way there is (广东, 广东省, 廣東, Guangdong, guangdong
province), so filters (``province:广东``), classification and breakdowns go through
:func:`canonical_province`, which maps every known form to the short simplified name.

Regions follow the seven traditional geographic divisions (七大地理分区) used in Chinese
statistics and sales territories; 台湾 is placed in 华东 and 香港/澳门 in 华南, as those tables
usually do. Classification reads the province→region table from the TOML config, so a
company with its own territories can override it (see :mod:`tricrm_tui.services.classify`).
"""

from __future__ import annotations

import re
from functools import lru_cache

# short name → (region, long official name, other spellings)
PROVINCES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "北京": ("华北", "北京市", ("Beijing", "Peking")),
    "天津": ("华北", "天津市", ("Tianjin",)),
    "河北": ("华北", "河北省", ("Hebei",)),
    "山西": ("华北", "山西省", ("Shanxi",)),
    "内蒙古": ("华北", "内蒙古自治区", ("Inner Mongolia", "Nei Mongol", "Neimenggu", "內蒙古")),
    "辽宁": ("东北", "辽宁省", ("Liaoning", "遼寧")),
    "吉林": ("东北", "吉林省", ("Jilin",)),
    "黑龙江": ("东北", "黑龙江省", ("Heilongjiang", "黑龍江")),
    "上海": ("华东", "上海市", ("Shanghai",)),
    "江苏": ("华东", "江苏省", ("Jiangsu", "江蘇")),
    "浙江": ("华东", "浙江省", ("Zhejiang",)),
    "安徽": ("华东", "安徽省", ("Anhui",)),
    "福建": ("华东", "福建省", ("Fujian",)),
    "江西": ("华东", "江西省", ("Jiangxi",)),
    "山东": ("华东", "山东省", ("Shandong", "山東")),
    "台湾": ("华东", "台湾省", ("Taiwan", "臺灣", "台灣", "臺灣省", "台灣省")),
    "河南": ("华中", "河南省", ("Henan",)),
    "湖北": ("华中", "湖北省", ("Hubei",)),
    "湖南": ("华中", "湖南省", ("Hunan",)),
    "广东": ("华南", "广东省", ("Guangdong", "Canton", "廣東", "廣東省")),
    "广西": ("华南", "广西壮族自治区", ("Guangxi", "廣西", "广西自治区")),
    "海南": ("华南", "海南省", ("Hainan",)),
    "香港": ("华南", "香港特别行政区", ("Hong Kong", "HK", "HKSAR", "香港特別行政區")),
    "澳门": ("华南", "澳门特别行政区", ("Macau", "Macao", "澳門", "澳門特別行政區")),
    "重庆": ("西南", "重庆市", ("Chongqing", "重慶")),
    "四川": ("西南", "四川省", ("Sichuan",)),
    "贵州": ("西南", "贵州省", ("Guizhou", "貴州")),
    "云南": ("西南", "云南省", ("Yunnan", "雲南")),
    "西藏": ("西南", "西藏自治区", ("Tibet", "Xizang")),
    "陕西": ("西北", "陕西省", ("Shaanxi", "陝西")),
    "甘肃": ("西北", "甘肃省", ("Gansu", "甘肅")),
    "青海": ("西北", "青海省", ("Qinghai",)),
    "宁夏": ("西北", "宁夏回族自治区", ("Ningxia", "寧夏")),
    "新疆": ("西北", "新疆维吾尔自治区", ("Xinjiang", "新疆維吾爾自治區")),
}

REGIONS = ("华北", "东北", "华东", "华中", "华南", "西南", "西北")

_SUFFIXES = re.compile(r"(省|市|特别行政区|特別行政區|(壮族|回族|维吾尔|維吾爾)?自治区|自治區)$")
_LATIN_SUFFIX = re.compile(r"\s+(province|municipality|sar|autonomous region)$")


def _key(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip()).lower()


@lru_cache(maxsize=1)
def _forms() -> dict[str, str]:
    forms: dict[str, str] = {}
    for short, (_region, long, others) in PROVINCES.items():
        for form in (short, long, *others):
            forms[_key(form)] = short
    return forms


def canonical_province(value: str | None) -> str | None:
    """The short simplified name for any known form (广东省, 廣東, Guangdong), else None."""
    if not value:
        return None
    key = _key(value)
    forms = _forms()
    if key in forms:
        return forms[key]
    stripped = _LATIN_SUFFIX.sub("", _SUFFIXES.sub("", key))
    return forms.get(stripped)


def province_forms(value: str) -> list[str]:
    """Every spelling of the province ``value`` names (for matching stored text), or [value]."""
    short = canonical_province(value)
    if short is None:
        return [value]
    _region, long, others = PROVINCES[short]
    return sorted({short, long, *others})


def region_of(province: str | None, table: dict[str, str] | None = None) -> str | None:
    """The region of a province in any form; ``table`` (short name → region) overrides."""
    short = canonical_province(province)
    if short is None:
        return None
    if table and short in table:
        return table[short]
    return PROVINCES[short][0]
