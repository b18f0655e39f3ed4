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
import unicodedata
from functools import lru_cache
from typing import Any

# short name → (region, long official name, other spellings: English, traditional characters
# and the one-character abbreviations licence plates and shipping labels use, 粤 for 广东)
PROVINCES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "北京": ("华北", "北京市", ("Beijing", "Peking", "京")),
    "天津": ("华北", "天津市", ("Tianjin", "津")),
    "河北": ("华北", "河北省", ("Hebei", "冀")),
    "山西": ("华北", "山西省", ("Shanxi", "晋")),
    "内蒙古": (
        "华北",
        "内蒙古自治区",
        ("Inner Mongolia", "Nei Mongol", "Neimenggu", "內蒙古", "蒙"),
    ),
    "辽宁": ("东北", "辽宁省", ("Liaoning", "遼寧", "辽")),
    "吉林": ("东北", "吉林省", ("Jilin", "吉")),
    "黑龙江": ("东北", "黑龙江省", ("Heilongjiang", "黑龍江", "黑")),
    "上海": ("华东", "上海市", ("Shanghai", "沪")),
    "江苏": ("华东", "江苏省", ("Jiangsu", "江蘇", "苏")),
    "浙江": ("华东", "浙江省", ("Zhejiang", "浙")),
    "安徽": ("华东", "安徽省", ("Anhui", "皖")),
    "福建": ("华东", "福建省", ("Fujian", "闽")),
    "江西": ("华东", "江西省", ("Jiangxi", "赣")),
    "山东": ("华东", "山东省", ("Shandong", "山東", "鲁")),
    "台湾": ("华东", "台湾省", ("Taiwan", "臺灣", "台灣", "臺灣省", "台灣省", "台")),
    "河南": ("华中", "河南省", ("Henan", "豫")),
    "湖北": ("华中", "湖北省", ("Hubei", "鄂")),
    "湖南": ("华中", "湖南省", ("Hunan", "湘")),
    "广东": ("华南", "广东省", ("Guangdong", "Canton", "廣東", "廣東省", "粤")),
    "广西": ("华南", "广西壮族自治区", ("Guangxi", "廣西", "广西自治区", "桂")),
    "海南": ("华南", "海南省", ("Hainan", "琼")),
    "香港": ("华南", "香港特别行政区", ("Hong Kong", "HK", "HKSAR", "香港特別行政區", "港")),
    "澳门": ("华南", "澳门特别行政区", ("Macau", "Macao", "澳門", "澳門特別行政區", "澳")),
    "重庆": ("西南", "重庆市", ("Chongqing", "重慶", "渝")),
    "四川": ("西南", "四川省", ("Sichuan", "川", "蜀")),
    "贵州": ("西南", "贵州省", ("Guizhou", "貴州", "贵", "黔")),
    "云南": ("西南", "云南省", ("Yunnan", "雲南", "云", "滇")),
    "西藏": ("西南", "西藏自治区", ("Tibet", "Xizang", "藏")),
    "陕西": ("西北", "陕西省", ("Shaanxi", "陝西", "陕", "秦")),
    "甘肃": ("西北", "甘肃省", ("Gansu", "甘肅", "甘", "陇")),
    "青海": ("西北", "青海省", ("Qinghai", "青")),
    "宁夏": ("西北", "宁夏回族自治区", ("Ningxia", "寧夏", "宁")),
    "新疆": (
        "西北",
        "新疆维吾尔自治区",
        ("Xinjiang", "新疆維吾爾自治區", "新", "新疆维吾尔族自治区", "新疆維吾爾族自治區"),
    ),
}

REGIONS = ("华北", "东北", "华东", "华中", "华南", "西南", "西北")

# Provincial capitals and other large cities, for customers whose file has a city but no
# province (shop tills often record only the city).
CITY_PROVINCES = {
    "石家庄": "河北",
    "唐山": "河北",
    "保定": "河北",
    "太原": "山西",
    "大同": "山西",
    "呼和浩特": "内蒙古",
    "包头": "内蒙古",
    "沈阳": "辽宁",
    "大连": "辽宁",
    "长春": "吉林",
    "哈尔滨": "黑龙江",
    "大庆": "黑龙江",
    "南京": "江苏",
    "苏州": "江苏",
    "无锡": "江苏",
    "常州": "江苏",
    "南通": "江苏",
    "徐州": "江苏",
    "杭州": "浙江",
    "宁波": "浙江",
    "温州": "浙江",
    "绍兴": "浙江",
    "嘉兴": "浙江",
    "金华": "浙江",
    "义乌": "浙江",
    "合肥": "安徽",
    "芜湖": "安徽",
    "福州": "福建",
    "厦门": "福建",
    "泉州": "福建",
    "南昌": "江西",
    "赣州": "江西",
    "济南": "山东",
    "青岛": "山东",
    "烟台": "山东",
    "潍坊": "山东",
    "临沂": "山东",
    "台北": "台湾",
    "高雄": "台湾",
    "郑州": "河南",
    "洛阳": "河南",
    "武汉": "湖北",
    "宜昌": "湖北",
    "襄阳": "湖北",
    "长沙": "湖南",
    "株洲": "湖南",
    "广州": "广东",
    "深圳": "广东",
    "东莞": "广东",
    "佛山": "广东",
    "珠海": "广东",
    "中山": "广东",
    "惠州": "广东",
    "汕头": "广东",
    "南宁": "广西",
    "桂林": "广西",
    "柳州": "广西",
    "海口": "海南",
    "三亚": "海南",
    "成都": "四川",
    "绵阳": "四川",
    "贵阳": "贵州",
    "遵义": "贵州",
    "昆明": "云南",
    "大理": "云南",
    "拉萨": "西藏",
    "西安": "陕西",
    "咸阳": "陕西",
    "兰州": "甘肃",
    "西宁": "青海",
    "银川": "宁夏",
    "乌鲁木齐": "新疆",
}

_ETHNIC = ("壮族", "壯族", "回族", "维吾尔", "维吾尔族", "維吾爾", "維吾爾族")
CN_SUFFIXES = (
    "省",
    "市",
    "特别行政区",
    "特別行政區",
    *(ethnic + autonomous for ethnic in ("", *_ETHNIC) for autonomous in ("自治区", "自治區")),
)
"""What a Chinese name of a province may end with (广东省, 广西壮族自治区)."""
LATIN_SUFFIXES = ("province", "municipality", "sar", "autonomous region")
"""What a Latin name may end with, after a space (Guangdong Province, Hong Kong SAR)."""
CN_PREFIXES = ("中国", "中國")
"""What a Chinese name may start with (中国台湾, 中国广东省)."""


def _key(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip()).lower()


@lru_cache(maxsize=1)
def _forms() -> dict[str, str]:
    forms: dict[str, str] = {}
    for short, (_region, long, others) in PROVINCES.items():
        for form in (short, long, *others):
            forms[_key(form)] = short
    return forms


def _without_affixes(key: str) -> str:
    """``key`` without its affixes: a Latin name loses one Latin suffix; a Chinese one loses
    one prefix and one Chinese suffix, and must stay Chinese (``guangdong省`` is no spelling),
    so that :func:`province_spellings` can list every text read as a province."""
    if key.isascii():
        for suffix in LATIN_SUFFIXES:
            if key.endswith(" " + suffix):
                return key[: -len(suffix) - 1]
        return key
    base = key
    for prefix in CN_PREFIXES:
        if base.startswith(prefix) and len(base) > len(prefix):
            base = base[len(prefix) :]
            break
    for suffix in sorted(CN_SUFFIXES, key=len, reverse=True):
        if base.endswith(suffix) and len(base) > len(suffix):
            base = base[: -len(suffix)]
            break
    return key if base.isascii() else base


def canonical_province(value: str | None) -> str | None:
    """The short simplified name for any known form (广东省, 廣東, 粤, 中国广东, Guangdong
    Province), else None."""
    if not value:
        return None
    key = _key(value)
    forms = _forms()
    if key in forms:
        return forms[key]
    return forms.get(_without_affixes(key))


@lru_cache(maxsize=64)
def _spellings_of(short: str) -> tuple[str, ...]:
    out: set[str] = set()
    for form, name in _forms().items():
        if name != short:
            continue
        if form.isascii():
            out |= {form, *(f"{form} {suffix}" for suffix in LATIN_SUFFIXES)}
        else:
            bare = {form, *(form + suffix for suffix in CN_SUFFIXES)}
            out |= bare | {prefix + b for prefix in CN_PREFIXES for b in bare}
    # A spelling that reads as another province once its affixes go (none today) is not this
    # one's: canonical_province() decides.
    return tuple(sorted(s for s in out if canonical_province(s) == short))


def province_spellings(value: str) -> list[str] | None:
    """Every lower-cased text :func:`canonical_province` reads as the province ``value``
    names (广东 → 广东, 广东省, 粤, 中国广东, guangdong province …), for a filter to match stored
    text with ``lower(province) IN (…)``; None when ``value`` names no province."""
    short = canonical_province(value)
    if short is None:
        return None
    return list(_spellings_of(short))


def province_of_city(city: str | None) -> str | None:
    """The province of a large city (深圳, 深圳市) or a municipality (北京市), else None."""
    if not city:
        return None
    name = re.sub(r"\s+", "", city).removesuffix("市")
    if name in CITY_PROVINCES:
        return CITY_PROVINCES[name]
    # A municipality by its name, not by a one-character abbreviation: 津市 (a city in
    # Hunan) is not 天津.
    core = _without_affixes(_key(name))
    if len(core) < 2 and not core.isascii():
        return None
    short = canonical_province(name)
    return short if short in ("北京", "天津", "上海", "重庆", "香港", "澳门") else None


def region_of(province: str | None, table: dict[str, str] | None = None) -> str | None:
    """The region of a province in any form; ``table`` (short name → region) overrides."""
    short = canonical_province(province)
    if short is None:
        return None
    if table and short in table:
        return table[short]
    return PROVINCES[short][0]


_CITY_SUFFIX = re.compile(r"(自治州|地区|地區|特别行政区|特別行政區|市|区|區|县|縣|盟)$")
_ETHNIC_AUTONOMOUS = re.compile(
    r"(?:(?:朝鲜|朝鮮|土家|苗|藏|彝|回|蒙古|哈萨克|柯尔克孜|傣|景颇|白|傈僳|哈尼|壮|布依|侗|羌|黎)族)+"
    r"自治[州县縣旗]$"
)
_MUNICIPALITIES = ("北京", "天津", "上海", "重庆", "香港", "澳门")
_LATIN_CITY_SUFFIX = re.compile(r"\s+(city|shi|prefecture|district|county)$")


@lru_cache(maxsize=65536)
def city_key(city: str | None) -> str | None:
    """A city as the duplicate check compares it: 杭州, 杭州市, ＨＡＮＧＺＨＯＵ city and
    浙江省杭州市 all give the same key (full-width folded, lower case, the province in front
    and the 市/区/县/地区/盟/自治州 suffix dropped; a district of 北京, 上海, 天津 or 重庆 is that
    city). A suffix stays when dropping it would
    leave one character (沙市 is not 沙), and a province in front stays when nothing would be
    left after it (吉林市 is the city 吉林)."""
    if not city:
        return None
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", city)).strip().lower()
    if not text:
        return None
    if not text.isascii():
        text = _simplified(text)  # 廣州 and 臺北 are 广州 and 台北
    text = _LATIN_CITY_SUFFIX.sub("", text)
    squeezed = text.replace(" ", "")
    for form in _province_prefixes():
        rest = squeezed.removeprefix(form)
        # A province in front goes only when a city is left: 海南藏族自治州 (in 青海) is
        # the prefecture 海南, not 海南's 藏族自治州.
        if rest != squeezed and len(_suffix_off(rest)) >= 2:
            short = _forms()[form]
            if short in _MUNICIPALITIES:  # 北京市朝阳区 is in the city 北京
                return short
            squeezed = rest
            break
    return _without_city_suffix(squeezed)


@lru_cache(maxsize=1)
def _converter() -> Any:
    import opencc  # OpenCC: traditional → simplified by phrase, not character by character

    return opencc.OpenCC("t2s")


def _simplified(text: str) -> str:
    return str(_converter().convert(text))


def _suffix_off(name: str) -> str:
    """``name`` less its 市/区/县/地区/盟/自治州 suffix (an ethnic autonomy's whole)."""
    return _CITY_SUFFIX.sub("", _ETHNIC_AUTONOMOUS.sub("", name))


def _without_city_suffix(name: str) -> str:
    """``name`` less its suffix, unless that leaves one character."""
    stripped = _suffix_off(name)
    return stripped if len(stripped) >= 2 and stripped != name else name


@lru_cache(maxsize=1)
def _province_prefixes() -> tuple[str, ...]:
    """Han forms of the provinces (广东省, 广东, 廣東), as a city field may start with one."""
    # Two characters at least: a one-character abbreviation (吉, 海) starts too many cities.
    # Longest first, so 广东省 goes before 广东. (Cached with city_key: a base names the
    # same few hundred cities 100k times, and trying every form cost 2.5 s a scan.)
    return tuple(
        sorted(
            (
                form
                for form in _forms()
                if len(form) >= 2 and all("\u4e00" <= ch <= "\u9fff" for ch in form)
            ),
            key=len,
            reverse=True,
        )
    )
