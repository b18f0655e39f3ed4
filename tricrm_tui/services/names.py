"""Name keys that let the same person meet across scripts: 张伟 / 張偉 / Zhang Wei / WEI ZHANG.

A key is the name's syllables in toneless pinyin, surname and given name as separate tokens,
sorted (so the Western order "Wei Zhang" meets "Zhang Wei") and joined: ``weizhang``.

Libraries, and why: ``pypinyin`` reads simplified and traditional characters alike (張 and
张 are both ``zhang``), which is what lets traditional-script records meet simplified ones
without a conversion table. It reads a surname like an ordinary word, though (单 → dan, 曾
→ ceng; mozillazg/python-pinyin#297), so the surname readings below come first. Readings are
cached per character: a 100k-customer scan calls pypinyin a few thousand times, not 100k.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Surnames whose reading differs from the character's everyday reading (百家姓 polyphones).
SURNAME_READINGS = {
    "单": "shan",
    "單": "shan",
    "曾": "zeng",
    "解": "xie",
    "仇": "qiu",
    "朴": "piao",
    "查": "zha",
    "区": "ou",
    "區": "ou",
    "繁": "po",
    "盖": "ge",
    "蓋": "ge",
    "覃": "qin",
    "乐": "yue",
    "樂": "yue",
    "种": "chong",
    "種": "chong",
    "员": "yun",
    "秘": "bi",
    "缪": "miao",
    "繆": "miao",
    "翟": "zhai",
    "召": "shao",
    "任": "ren",
    "华": "hua",
    "華": "hua",
    "纪": "ji",
    "紀": "ji",
    "尉": "yu",
    "佘": "she",
    "折": "she",
    "沈": "shen",
    "瞿": "qu",
    "长": "chang",
    "長": "chang",
    "阚": "kan",
    "莘": "shen",
    "厍": "she",
    "隗": "wei",
    "柏": "bai",
    "薄": "bo",
    "祭": "zhai",
    "芮": "rui",
    "郇": "huan",
}
COMPOUND_SURNAMES = {
    "欧阳": "ouyang",
    "歐陽": "ouyang",
    "司马": "sima",
    "司馬": "sima",
    "诸葛": "zhuge",
    "諸葛": "zhuge",
    "上官": "shangguan",
    "司徒": "situ",
    "东方": "dongfang",
    "東方": "dongfang",
    "皇甫": "huangfu",
    "尉迟": "yuchi",
    "尉遲": "yuchi",
    "公孙": "gongsun",
    "公孫": "gongsun",
    "慕容": "murong",
    "长孙": "zhangsun",
    "長孫": "zhangsun",
    "宇文": "yuwen",
    "令狐": "linghu",
    "夏侯": "xiahou",
    "澹台": "tantai",
    "万俟": "moqi",
    "單于": "chanyu",
    "单于": "chanyu",
}
# Words that say "a company" rather than who it is, removed before comparing enterprise names.
COMPANY_WORDS = re.compile(
    r"(股份有限公司|有限责任公司|有限公司|有限責任公司|集团|集團|公司|分公司|工作室|商行|"
    r"\b(co|company|corp|corporation|inc|ltd|limited|llc|group|gmbh|plc)\b\.?)",
    re.IGNORECASE,
)
_LATIN_SPLIT = re.compile(r"[^0-9a-z]+")
# The readings of the ~100 most common surnames, to split a run-together romanised name
# ("zhangwei" → zhang wei) the way a written one is split.
COMMON_SURNAME_PINYIN = frozenset(
    [
        "wang",
        "li",
        "zhang",
        "liu",
        "chen",
        "yang",
        "huang",
        "zhao",
        "wu",
        "zhou",
        "xu",
        "sun",
        "ma",
        "zhu",
        "hu",
        "guo",
        "he",
        "gao",
        "lin",
        "luo",
        "zheng",
        "liang",
        "xie",
        "song",
        "tang",
        "han",
        "feng",
        "deng",
        "cao",
        "peng",
        "zeng",
        "xiao",
        "tian",
        "dong",
        "yuan",
        "pan",
        "cai",
        "jiang",
        "yu",
        "du",
        "ye",
        "cheng",
        "su",
        "wei",
        "lv",
        "lu",
        "ding",
        "ren",
        "shen",
        "yao",
        "jin",
        "fu",
        "zhong",
        "cui",
        "tan",
        "qiu",
        "shi",
        "hou",
        "qin",
        "bai",
        "gu",
        "meng",
        "xiong",
        "yan",
        "qian",
        "dai",
        "fan",
        "fang",
        "kong",
        "mao",
        "jia",
        "xue",
        "lei",
        "long",
        "duan",
        "hao",
        "shao",
        "wan",
        "qi",
        "chang",
        "kang",
        "yin",
        "wen",
        "mo",
        "tao",
        "ni",
        "niu",
        "ouyang",
        "situ",
        "sima",
        "zhuge",
        "shangguan",
        "murong",
    ]
)


def is_han(ch: str) -> bool:
    """CJK unified ideographs: the basic block, extension A, and extensions B and beyond."""
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x3134F


@lru_cache(maxsize=65536)
def char_pinyin(ch: str) -> str:
    from pypinyin import lazy_pinyin

    return lazy_pinyin(ch)[0]


def clean_name(name: str, enterprise: bool = False) -> str:
    text = unicodedata.normalize("NFKC", name or "").lower()
    if enterprise:
        text = COMPANY_WORDS.sub(" ", text)
    return " ".join(text.split())


@lru_cache(maxsize=262144)
def _tokens(name: str, enterprise: bool) -> tuple[str, ...]:
    return tuple(_name_tokens(name, enterprise))


def name_tokens(name: str, enterprise: bool = False) -> list[str]:
    """Pinyin tokens: [surname, given] for a Han personal name; words for Latin text."""
    return list(_tokens(name, enterprise))


def name_tokens_once(name: str, enterprise: bool = False) -> list[str]:
    """:func:`name_tokens` without the cache: for one pass over many distinct names (a
    duplicate check streaming 100k customers), where the cache would only hold memory."""
    return _name_tokens(name, enterprise)


def _name_tokens(name: str, enterprise: bool = False) -> list[str]:
    """Pinyin tokens: [surname, given] for a Han personal name; words for Latin text."""
    text = clean_name(name, enterprise)
    han = "".join(ch for ch in text if is_han(ch))
    if han and len(han) >= max(1, len(text.replace(" ", "")) // 2):
        if enterprise:
            return ["".join(char_pinyin(ch) for ch in han)]
        reading = COMPOUND_SURNAMES.get(han[:2]) if len(han) > 2 else None  # all two-character
        if reading:
            return [reading, "".join(char_pinyin(ch) for ch in han[2:])]
        surname = SURNAME_READINGS.get(han[0]) or char_pinyin(han[0])
        given = "".join(char_pinyin(ch) for ch in han[1:])
        return [surname, given] if given else [surname]
    tokens = [t for t in _LATIN_SPLIT.split(text) if t]
    if len(tokens) == 1 and not enterprise and tokens[0].isalpha():
        word = tokens[0]
        for cut in range(min(9, len(word) - 1), 1, -1):
            if word[:cut] in COMMON_SURNAME_PINYIN:
                return [word[:cut], word[cut:]]
    return tokens


def name_key(name: str, enterprise: bool = False) -> str:
    """The blocking key: sorted tokens joined (张伟, 張偉, Zhang Wei, wei zhang → weizhang)."""
    return "".join(sorted(name_tokens(name, enterprise)))
