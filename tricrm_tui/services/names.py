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
# Characters common in given names whose everyday (single-character) reading is not the one
# names usually take, or that names read both ways: 长 in 李长春 is chang, in 长孙 zhang; 重 in
# 王重阳 is chong. Every reading listed gives the name another key (:func:`name_keys`), so the
# romanised name meets the Han one whichever was meant. Only readings names really take are
# listed: pypinyin's full list (明 meng, 娜 nuo, 英 yang…) would let 王明 meet 王萌.
GIVEN_NAME_READINGS = {
    "长": ("chang", "zhang"),
    "長": ("chang", "zhang"),
    "重": ("chong", "zhong"),
    "朝": ("chao", "zhao"),
    "乐": ("le", "yue"),
    "樂": ("le", "yue"),
    "行": ("xing", "hang"),
    "觉": ("jue", "jiao"),
    "覺": ("jue", "jiao"),
    "茜": ("qian", "xi"),
    "蔚": ("wei", "yu"),
    "藏": ("cang", "zang"),
    "降": ("jiang", "xiang"),
    "都": ("du", "dou"),
    "调": ("tiao", "diao"),
    "調": ("tiao", "diao"),
    "传": ("chuan", "zhuan"),
    "傳": ("chuan", "zhuan"),
    "会": ("hui", "kuai"),
    "會": ("hui", "kuai"),
    "省": ("sheng", "xing"),
    "晟": ("sheng", "cheng"),
    "单": ("dan", "shan"),
    "單": ("dan", "shan"),
    "曾": ("zeng", "ceng"),
    "厦": ("xia", "sha"),
    "廈": ("xia", "sha"),
    "相": ("xiang",),
    "弹": ("dan", "tan"),
    "彈": ("dan", "tan"),
    "参": ("shen", "can"),
    "參": ("shen", "can"),
    "柏": ("bai", "bo"),
    "翟": ("di", "zhai"),
    "莎": ("sha", "suo"),
}
MAX_NAME_KEYS = 4
"""A name with several polyphones gets at most this many keys (the first readings)."""
# Words that say "a company" rather than who it is, removed before comparing enterprise names.
COMPANY_WORDS = re.compile(
    r"(股份有限公司|有限责任公司|有限公司|有限責任公司|集团|集團|公司|分公司|工作室|商行|"
    r"\b(co|company|corp|corporation|inc|ltd|limited|llc|group|gmbh|plc)\b\.?)",
    re.IGNORECASE,
)
_LATIN_SPLIT = re.compile(r"[^0-9a-z]+")
_HYPHENATED = re.compile(r"(?<=[a-z])[-\u2010\u2011'\u2019](?=[a-z])")
# Pinyin ü: typed ü, v (the keyboard's stand-in) or, in passports since 2012, yu after l and n
# (Lyu Wei is 吕伟). pypinyin writes it v, so every form becomes v.
_U_UMLAUT = re.compile(r"ü|u:")
_PASSPORT_YU = {"lyu": "lv", "nyu": "nv", "lyue": "lve", "nyue": "nve"}
# Every toneless pinyin syllable (from pypinyin's dictionary), to tell a romanised Chinese
# name (Zhang Wei Ming) from a Western one (Mary Jane Smith).
_SYLLABLES = """a ai an ang ao ba bai ban bang bao bei ben beng bi bian biao bie bin bing bo bu ca cai
    can cang cao ce cen ceng cha chai chan chang chao che chen cheng chi chong chou chu chua
    chuai chuan chuang chui chun chuo ci cong cou cu cuan cui cun cuo da dai dan dang dao de
    dei den deng di dia dian diao die ding diu dong dou du duan dui dun duo e ei en eng er fa
    fan fang fei fen feng fo fou fu ga gai gan gang gao ge gei gen geng gong gou gu gua guai
    guan guang gui gun guo ha hai han hang hao he hei hen heng hong hou hu hua huai huan huang
    hui hun huo ji jia jian jiang jiao jie jin jing jiong jiu ju juan jue jun ka kai kan kang
    kao ke kei ken keng kong kou ku kua kuai kuan kuang kui kun kuo la lai lan lang lao le lei
    leng li lia lian liang liao lie lin ling liu lo long lou lu luan lun luo lv lve ma mai man
    mang mao me mei men meng mi mian miao mie min ming miu mo mou mu na nai nan nang nao ne nei
    nen neng ni nian niang niao nie nin ning niu nong nou nu nuan nun nuo nv nve o ou pa pai
    pan pang pao pei pen peng pi pian piao pie pin ping po pou pu qi qia qian qiang qiao qie
    qin qing qiong qiu qu quan que qun ran rang rao re ren reng ri rong rou ru rua ruan rui
    run ruo sa sai san sang sao se sen seng sha shai shan shang shao she shei shen sheng shi
    shou shu shua shuai shuan shuang shui shun shuo si song sou su suan sui sun suo ta tai tan
    tang tao te teng ti tian tiao tie ting tong tou tu tuan tui tun tuo wa wai wan wang wei
    wen weng wo wu xi xia xian xiang xiao xie xin xing xiong xiu xu xuan xue xun ya yan yang
    yao ye yi yin ying yo yong you yu yuan yue yun za zai zan zang zao ze zei zen zeng zha
    zhai zhan zhang zhao zhe zhei zhen zheng zhi zhong zhou zhu zhua zhuai zhuan zhuang zhui
    zhun zhuo zi zong zou zu zuan zui zun zuo"""
PINYIN_SYLLABLES = frozenset(_SYLLABLES.split())
# The readings of the ~100 most common surnames, to split a run-together romanised name
# ("zhangwei" → zhang wei) the way a written one is split.
SURNAMES_BY_FREQUENCY = (
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
)
"""Most common first: which end of "Wei Ming Zhang" is the surname is decided by it."""
COMMON_SURNAME_PINYIN = frozenset(SURNAMES_BY_FREQUENCY)
_SURNAME_RANK = {s: i for i, s in enumerate(SURNAMES_BY_FREQUENCY)}


def is_han(ch: str) -> bool:
    """CJK unified ideographs: the basic block, extension A, and extensions B and beyond."""
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x3134F


@lru_cache(maxsize=65536)
def char_pinyin(ch: str) -> str:
    from pypinyin import lazy_pinyin

    return lazy_pinyin(ch)[0]


def _fold(text: str) -> str:
    """Latin letters without their accents (José → jose), pinyin ü as v (Lü → lv).

    Only Latin letters are decomposed: NFKD would also take kana and hangul apart."""
    text = _U_UMLAUT.sub("v", text)
    if text.isascii():
        return text
    out = []
    for ch in text:
        o = ord(ch)
        if o < 0x2B0 or 0x1E00 <= o <= 0x1EFF:
            out.append(
                "".join(
                    c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)
                )
            )
        else:
            out.append(ch)
    return "".join(out)


def clean_name(name: str, enterprise: bool = False) -> str:
    text = _fold(unicodedata.normalize("NFKC", name or "").lower())
    if enterprise:
        text = COMPANY_WORDS.sub(" ", text)
    return " ".join(text.split())


def pinyin_syllables(word: str) -> list[str] | None:
    """``word`` cut into pinyin syllables (weiming → wei ming), or None if it is not pinyin.

    A syllable after the first never starts with a, o or e: written together, pinyin marks
    that boundary with an apostrophe (xi'an), so "lina" is li-na, never lin-a."""
    return _syllables(word, True)


@lru_cache(maxsize=65536)
def _syllables_cached(word: str, first: bool) -> tuple[str, ...] | None:
    if not word:
        return ()
    for cut in range(min(6, len(word)), 0, -1):
        head = word[:cut]
        if head in PINYIN_SYLLABLES and (first or head[0] not in "aoe"):
            rest = _syllables_cached(word[cut:], False)
            if rest is not None:
                return (head, *rest)
    return None


def _syllables(word: str, first: bool) -> list[str] | None:
    found = _syllables_cached(word, first)
    return None if found is None else list(found)


@lru_cache(maxsize=262144)
def _variants(name: str, enterprise: bool) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(v) for v in _name_variants(name, enterprise))


def name_tokens(name: str, enterprise: bool = False) -> list[str]:
    """Pinyin tokens: [surname, given] for a Han personal name; words for Latin text; both,
    Latin first, for a name in both scripts (Kevin张 → kevin, zhang)."""
    return list(_variants(name, enterprise)[0])


def name_variants(name: str, enterprise: bool = False) -> list[list[str]]:
    """The name's tokens under each reading of its polyphones, the everyday reading first."""
    return [list(v) for v in _variants(name, enterprise)]


def name_tokens_once(name: str, enterprise: bool = False) -> list[str]:
    """:func:`name_tokens` without the cache: for one pass over many distinct names (a
    duplicate check streaming 100k customers), where the cache would only hold memory."""
    return _name_variants(name, enterprise)[0]


def name_variants_once(name: str, enterprise: bool = False) -> list[list[str]]:
    """:func:`name_variants` without the cache (see :func:`name_tokens_once`)."""
    return _name_variants(name, enterprise)


def _han_person(han: str) -> list[list[str]]:
    """[surname, given] readings of a Han personal name, the everyday reading first."""
    reading = COMPOUND_SURNAMES.get(han[:2]) if len(han) > 2 else None  # all two-character
    if reading:
        surname, given_chars = reading, han[2:]
    else:
        surname, given_chars = SURNAME_READINGS.get(han[0]) or char_pinyin(han[0]), han[1:]
    if not given_chars:
        return [[surname]]
    givens = [""]
    for ch in given_chars:
        usual = char_pinyin(ch)
        readings = [usual, *(r for r in GIVEN_NAME_READINGS.get(ch, ()) if r != usual)]
        givens = [g + r for g in givens for r in readings][:MAX_NAME_KEYS]
    return [[surname, g] for g in givens]


def _latin_tokens(text: str, enterprise: bool) -> list[str]:
    """Words of the Latin part; a romanised Chinese personal name as [surname, given]."""
    text = _HYPHENATED.sub("", text)  # Wei-Ming is one given name: weiming
    tokens = [_PASSPORT_YU.get(t, t) for t in _LATIN_SPLIT.split(text) if t]
    if enterprise or not tokens:
        return tokens
    if len(tokens) == 1 and tokens[0].isalpha():
        word = tokens[0]
        cuts = [c for c in range(min(9, len(word) - 1), 1, -1) if word[:c] in COMMON_SURNAME_PINYIN]
        for cut in cuts:  # the longest surname that leaves a pinyin given name
            if _syllables(word[cut:], False) is not None:
                return [word[:cut], word[cut:]]
        if cuts:
            return [word[: cuts[0]], word[cuts[0] :]]
        return tokens
    if len(tokens) >= 3 and all(pinyin_syllables(t) for t in tokens):
        # Zhang Wei Ming / Wei Ming Zhang: the surname is the end that is the more common
        # surname, and the syllables between make one given name, as 张伟明 reads.
        first = _SURNAME_RANK.get(tokens[0], len(_SURNAME_RANK))
        last = _SURNAME_RANK.get(tokens[-1], len(_SURNAME_RANK))
        if last < first:
            return [tokens[-1], "".join(tokens[:-1])]
        if first < len(_SURNAME_RANK):
            return [tokens[0], "".join(tokens[1:])]
    return tokens


def _name_variants(name: str, enterprise: bool = False) -> list[list[str]]:
    """Tokens under each reading (see :func:`name_variants`); both scripts are kept, so
    ABC贸易 and XYZ贸易, or Kevin张 and Kevin李, stay apart."""
    text = clean_name(name, enterprise)
    han = "".join(ch for ch in text if is_han(ch))
    latin = _latin_tokens("".join(" " if is_han(ch) else ch for ch in text), enterprise)
    if not han:
        return [latin]
    if enterprise:
        return [[*latin, "".join(char_pinyin(ch) for ch in han)]]
    return [[*latin, *person] for person in _han_person(han)]


def name_key(name: str, enterprise: bool = False) -> str:
    """The blocking key: sorted tokens joined (张伟, 張偉, Zhang Wei, wei zhang → weizhang)."""
    return "".join(sorted(name_tokens(name, enterprise)))


def name_keys(name: str, enterprise: bool = False) -> list[str]:
    """Every key of the name, one per reading of its polyphones (李长春: lichangchun and
    lizhangchun), :func:`name_key` first."""
    keys: list[str] = []
    for tokens in _variants(name, enterprise):
        key = "".join(sorted(tokens))
        if key not in keys:
            keys.append(key)
    return keys
