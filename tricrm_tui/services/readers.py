"""Reading rows out of whatever file an operator was handed, one row at a time.

Every reader yields ``(line_number, {header: raw value})`` and never holds the whole file,
so a million-row export costs the memory of one row. Line numbers are the ones a person sees
in an editor (CSV: the physical line where the record starts) or in Excel (the row number).

Encodings: legacy Chinese exports are usually GBK, Taiwanese ones Big5, Excel's "Unicode
text" is UTF-16. Detection order, and why: a BOM is proof; UTF-16 written without one is
told on a 4 KB head by the NULs of its ASCII characters or, in text of almost only Han
characters, by its line ends and what it reads as (GB18030 reads almost any byte pair, so
the later steps took such a file for GB18030); strict UTF-8 over the whole file almost
never passes by accident; strict GB18030 (a superset of GBK) and Big5 next, because
charset-normalizer misreads short GBK text as cp949 or Big5 (jawah/charset_normalizer #365,
#587) — when both decode, the reading made of common characters wins; only then
charset-normalizer on the file (for the other encodings); ``--encoding`` overrides it all.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import io
import json
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from tricrm_tui.i18n import _, format_number, ngettext
from tricrm_tui.services.errors import InvalidInput

if TYPE_CHECKING:
    from tricrm_tui.services.readers_legacy import (
        HtmlTableSource,
        XlsSource,
        XmlSpreadsheetSource,
    )

Row = dict[str, Any]

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CHUNK = 1 << 20
SNIFF_BYTES = 64 * 1024
# Names charset-normalizer reports, mapped to the codec we decode with: GB2312/GBK text is
# always valid GB18030, and Big5-HKSCS is a superset of Big5.
_DETECTED = {"gb2312": "gb18030", "gbk": "gb18030", "big5": "big5hkscs"}


def file_format(path: Path) -> str:
    """What ``path`` holds: by its content first (an old workbook, a web page, an XML
    spreadsheet, or a workbook of today's kind, whatever their name: see
    ``readers_legacy.sniff_format``), else by its extension."""
    from tricrm_tui.services.readers_legacy import sniff_format

    if (found := sniff_format(path)) is not None:
        return found
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    return "csv"


def _decodes_strictly(path: Path, encoding: str) -> bool:
    return _undecodable_line(path, encoding) is None


def _undecodable_line(path: Path, encoding: str) -> int | None:
    """The first line (1-based) ``encoding`` cannot read in ``path``; None when all can."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset = 0  # bytes of the file before the chunk being decoded
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                decoder.decode(chunk)
                offset += len(chunk)
            decoder.decode(b"", final=True)
    except UnicodeError as exc:
        if not isinstance(exc, UnicodeDecodeError):  # UTF-16 asked for, no BOM to begin
            return 1
        # The bytes before the bad one, from the file's start (its BOM decides UTF-16's
        # byte order), decoded again leniently to count their lines. ``exc.object`` may
        # begin with bytes held back from the previous chunk.
        # (or lack a BOM the decoder took off: then this is negative).
        held_back = len(exc.object) - len(chunk)
        return _lines_in(path, encoding, offset - held_back + exc.start)
    return None


def _lines_in(path: Path, encoding: str, size: int) -> int:
    """The line the byte at ``size`` is on (1-based)."""
    decoder = codecs.getincrementaldecoder(encoding)("replace")
    lines = 1
    with path.open("rb") as fh:
        while size > 0 and (chunk := fh.read(min(_CHUNK, size))):
            size -= len(chunk)
            lines += decoder.decode(chunk).count("\n")
    return lines


_NON_ASCII = re.compile(rb"[\x80-\xff]")


def _multibyte_sample(path: Path, size: int = 256 * 1024) -> bytes:
    """``size`` bytes of ``path`` from its first non-ASCII byte (a character's start, as all
    before it are ASCII). An export may open with thousands of lines of codes and English
    names before its first Chinese one: a sample from the file's start then held no Han
    character, and Big5 was read as GB18030."""
    offset = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            if (found := _NON_ASCII.search(chunk)) is not None:
                fh.seek(offset + found.start())
                return fh.read(size)
            offset += len(chunk)
    return b""


def _big5(path: Path) -> str | None:
    """The Big5 flavour that reads ``path``: Microsoft's cp950 (Taiwan's Windows exports: €,
    碁, kana…) or Big5-HKSCS (Hong Kong's extra characters), else None."""
    readers = [name for name in ("cp950", "big5hkscs") if _decodes_strictly(path, name)]
    if len(readers) < 2:
        return readers[0] if readers else None
    # Both read it, differently only at C6A1–C8FE: kana and circled numbers for cp950,
    # 〇, ［］ and other common characters for HKSCS. Chinese text seldom holds kana: the
    # reading with fewer wins, cp950 on a tie.
    sample = _multibyte_sample(path)
    kana = [sum("\u3040" <= ch <= "\u30ff" for ch in sample.decode(name, errors="ignore"))
            for name in readers]  # fmt: skip
    return "big5hkscs" if kana[1] < kana[0] else "cp950"


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 text with no BOM (some exports write none): its ASCII characters (digits,
    delimiters, line ends) put a NUL in every other byte, which UTF-8 would read as NUL
    characters, not fail on, while a Han character seldom has a NUL half (一, U+4E00). A
    customer file is far from all ASCII (``C0001,张三,13812345678,深圳市`` is 80 %): a NUL
    in a fifth of one half's bytes and hardly any in the other's is UTF-16. Text with less
    ASCII than that is judged by ``_utf16_of_han``."""
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    nul_even, nul_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if nul_odd >= 0.2 and nul_even < 0.05:
        return "utf-16-le"
    if nul_even >= 0.2 and nul_odd < 0.05:
        return "utf-16-be"
    return _utf16_of_han(head)


_HAN = re.compile(r"[\u4e00-\u9fff]")
_FOREIGN = re.compile(
    r"[^\t\n\r\x20-\x7e\u00a0-\u00ff\u2010-\u2027\u2030-\u205e\u3000-\u303f\u4e00-\u9fff"
    r"\uff01-\uffef]"
)
"""A character Chinese text is seldom written with: none of Han, ASCII, Latin-1, general or
CJK punctuation, full-width forms. Bytes read in the wrong encoding or byte order give them
(Hangul, private-use, unassigned and control characters, U+FFFD for a lone surrogate)."""


def _utf16_of_han(head: bytes) -> str | None:
    """UTF-16 with no BOM and hardly any ASCII (a list of names, addresses, notes): too few
    NULs for ``_utf16_without_bom``, and GB18030, which reads almost any byte pair, read a
    short one as rare characters. Its line ends still hold a NUL (``\\n\\x00`` little-endian,
    ``\\x00\\n`` big-endian), which text in GBK, Big5 or UTF-8 holds only when broken. Read
    as UTF-16 in the byte order that gives line ends, the lines of ``head`` must also be
    Chinese text: half of their characters Han, and at most one in fifty one such text is
    seldom written with (an emoji, a circled number). GBK or Big5 read as UTF-16 is mostly
    Hangul and private-use characters. ASCII read so is mostly Han (``ab`` is U+6261) but
    has no byte past 0x7F, which most Han characters have (U+8000 up, or a low byte past
    0x7F). A file of one line with no line end is left to the detection after this."""
    if _NON_ASCII.search(head) is None:
        return None
    for codec in ("utf-16-le", "utf-16-be"):
        text = head[: len(head) // 2 * 2].decode(codec, errors="replace")
        # Whole lines only: the sample may end inside a character.
        end = max(text.rfind("\n"), text.rfind("\r"))
        if end < 0:
            continue
        text = text[: end + 1]
        han, foreign = len(_HAN.findall(text)), len(_FOREIGN.findall(text))
        if han * 2 >= len(text) and foreign * 50 <= len(text):
            return codec
    return None


def _common_share(text: str, encoding: str, lead_from: int, lead_to: int) -> float:
    """Share of the Han characters that are among the encoding's most common ones (GB2312
    level 1 sits at lead bytes B0–D7, Big5's frequent characters at A4–C6). Real text is
    made mostly of common characters; bytes read in the wrong one of the two encodings
    scatter over rare ones."""
    han = [ch for ch in text if "\u4e00" <= ch <= "\u9fff"]
    if not han:
        return 0.0
    common = 0
    for ch in han:
        try:
            lead = ch.encode(encoding)[0]
        except UnicodeEncodeError:
            continue
        common += lead_from <= lead <= lead_to
    return common / len(han)


def _gb_or_big5(path: Path, big5: str) -> str:
    """Bytes valid in both GB18030 and Big5 (double-byte ranges overlap): read a sample in
    each and keep the reading made of common characters."""
    sample = _multibyte_sample(path)
    as_gb = sample.decode("gb18030", errors="ignore")
    as_big5 = sample.decode(big5, errors="ignore")
    gb_score = _common_share(as_gb, "gb2312", 0xB0, 0xD7)
    big5_score = _common_share(as_big5, "big5", 0xA4, 0xC6)
    return big5 if big5_score > gb_score else "gb18030"


def detect_encoding(path: Path) -> str:
    """The codec name to read ``path`` with (see the module docstring for the order)."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    if (utf16 := _utf16_without_bom(head)) is not None:
        return utf16
    if _decodes_strictly(path, "utf-8"):
        return "utf-8"
    gb = _decodes_strictly(path, "gb18030")
    big5 = _big5(path)
    if gb and big5:
        return _gb_or_big5(path, big5)
    if gb or big5:
        return "gb18030" if gb else str(big5)
    from charset_normalizer import from_path  # the well-kept detector, for Big5 and the rest

    best = from_path(path).best()
    if best is None:
        raise InvalidInput(
            _("cannot tell the encoding of {file}; give it with --encoding").format(file=path),
            field="encoding",
        )
    name = best.encoding.lower().replace("-", "_")
    # The detector names codecs Python's way (``utf_16_le``, ``cp1252``); the summary and
    # ``import list`` say them as people and ``--encoding`` write them (``utf-16-le``).
    return _DETECTED.get(name) or name.replace("_", "-")


_NOT_FOR_FILES = {"undefined", "idna", "punycode"}
"""Text codecs no file is written in (domain names, one that refuses everything)."""


def check_encoding(name: str) -> str:
    """The codec's own name for ``name``; refused when Python knows no such encoding, or
    knows it as a codec that is not a text encoding (base64, rot13, zlib: reading a file
    with one ended in a raw Python error)."""
    try:
        info = codecs.lookup(name)
    except LookupError as exc:
        raise InvalidInput(
            _("unknown encoding: {name}").format(name=name), field="encoding"
        ) from exc
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_FOR_FILES:
        raise InvalidInput(
            _("{name} is not a text encoding (gbk, big5, utf-8, utf-16…)").format(name=name),
            field="encoding",
        )
    return info.name


@dataclass
class SourceInfo:
    """What was learnt about a file before reading it: shown to the operator and recorded."""

    path: Path
    format: str
    encoding: str | None
    headers: list[str] = field(default_factory=list)
    delimiter: str | None = None
    sheet: str | None = None


def _text_encoding(path: Path, encoding: str | None) -> str:
    """The encoding to read ``path`` with. One given with ``--encoding`` is checked against
    the whole file first: found wrong half-way, an import would stop with batches written."""
    if not encoding:
        return detect_encoding(path)
    name = check_encoding(encoding)
    line = _undecodable_line(path, name)
    if line is not None:
        raise InvalidInput(
            _("line {line} of {file} is not {encoding}; leave out --encoding to have it "
              "detected").format(line=line, file=path.name, encoding=encoding),
            field="encoding",
        )  # fmt: skip
    return name


def _sniff_dialect(
    sample: str, whole: bool = False
) -> tuple[type[csv.Dialect] | csv.Dialect, bool]:
    """(dialect, whitespace-delimited?). ``csv.Sniffer`` on a sample, limited to the usual
    delimiters so a colon in a time is not taken for one; runs of spaces as a last resort."""
    lines = [ln for ln in sample.splitlines()[:50] if ln.strip()]
    body = "\n".join(lines)
    try:
        dialect = csv.Sniffer().sniff(body, delimiters=",;\t|")
    except csv.Error:
        pass
    else:
        # A quote inside a quoted cell is written doubled (RFC 4180, Excel). The sniffer
        # says "not doubled" whenever its sample happens to hold no such cell, and a later
        # ``"He said ""hi"""`` would then read as ``He said "hi"""``.
        if not dialect.escapechar:
            dialect.doublequote = True
        # The header names its columns with the real delimiter; values (``a|b``, ``'x'``)
        # can lead the sniffer to another one the header does not hold.
        header = lines[0] if lines else ""
        if dialect.delimiter not in header:
            dialect.delimiter = next((d for d in ",;\t|" if d in header), dialect.delimiter)
        # Cells that start with an apostrophe (an export's mark before text like ``=深圳``)
        # can look to the sniffer like cells quoted with ``'``. The usual ``"`` wins when it
        # reads every line of the sample to the header's width and ``'`` does not, or when
        # few cells are wrapped in ``'…'`` as a file quoted that way has most of them.
        delimiter = dialect.delimiter
        if (
            dialect.quotechar == "'"
            and _even_width(lines, delimiter, '"', whole)
            and not (_even_width(lines, delimiter, "'", whole) and _quoted_cells(lines, delimiter))
        ):
            dialect.quotechar = '"'
        return dialect, False
    if lines and all(len(ln.split()) == len(lines[0].split()) > 1 for ln in lines):
        return _Whitespace, True
    return csv.excel, False


def _quoted_cells(lines: list[str], delimiter: str) -> bool:
    """Whether most filled cells of the sample's data lines are wrapped in ``'…'``."""
    cells = [c for row in csv.reader(lines[1:], delimiter=delimiter, quotechar='"')
             for c in row if c]  # fmt: skip
    wrapped = sum(len(c) > 1 and c[0] == c[-1] == "'" for c in cells)
    return bool(cells) and wrapped * 2 > len(cells)


def _even_width(lines: list[str], delimiter: str, quote: str, whole: bool) -> bool:
    """Whether reading ``lines`` with ``quote`` gives every record the header's width. A
    sample that is not the ``whole`` file may end in a line cut short: it is left out."""
    rows = list(csv.reader(lines if whole else lines[:-1] or lines, delimiter=delimiter,
                           quotechar=quote))  # fmt: skip
    return bool(rows) and all(len(r) == len(rows[0]) for r in rows)


class _Whitespace(csv.Dialect):
    delimiter = " "
    quotechar = '"'
    doublequote = True
    skipinitialspace = True
    lineterminator = "\n"
    quoting = csv.QUOTE_MINIMAL


def _unique_headers(raw: list[Any]) -> list[str]:
    """Headers trimmed; blanks named ``column_N``; repeats suffixed so no value is lost."""
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, h in enumerate(raw, start=1):
        name = str(h).strip().lstrip("\ufeff") if h is not None else ""
        name = name or f"column_{i}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        out.append(name)
    return out


READ_ERRORS = (OSError, UnicodeError, zipfile.BadZipFile, KeyError, ET.ParseError)
"""What reading a damaged file raises out of the libraries under the readers: a workbook
cut short (``BadZipFile``), one missing a part (``KeyError``) or with broken XML, bytes the
file's encoding cannot hold, a file the operator may not read."""
_WORKBOOK_ERRORS = (zipfile.BadZipFile, KeyError, ET.ParseError)
"""Those of :data:`READ_ERRORS` that say a damaged workbook only when openpyxl reads one:
out of any other reader they are a fault of tricrm's, raised as such, not said as a file
to open in Excel and save again."""


def _damaged(exc: Exception, workbook: bool) -> bool:
    """Whether ``exc``, out of reading a file (a workbook of today's kind or not), says
    the file is damaged or unreadable."""
    return workbook or not isinstance(exc, _WORKBOOK_ERRORS)


def unreadable(path: Path, exc: Exception) -> InvalidInput:
    """One line naming the file, the line where it can be told, and the reason for an error
    in :data:`READ_ERRORS`, instead of a bare ``BadZipFile: File is not a zip file``."""
    reason = str(exc) or type(exc).__name__
    if isinstance(exc, UnicodeDecodeError):  # a BOM that promised an encoding it broke
        line = _undecodable_line(path, exc.encoding) or 1
        return InvalidInput(
            _("line {line} of {file} is not {encoding}; give its encoding with --encoding")
            .format(line=line, file=path.name, encoding=exc.encoding),
            field="encoding",
        )  # fmt: skip
    if isinstance(exc, OSError | UnicodeError):
        reason = getattr(exc, "strerror", None) or reason
        return InvalidInput(
            _("cannot read {file}: {reason}").format(file=path, reason=reason), field="path"
        )
    return InvalidInput(
        _("{file} is not a whole workbook ({reason}); open it in Excel, WPS or LibreOffice "
          "and save it again, or export it as CSV").format(file=path.name, reason=reason),
        field="path",
    )  # fmt: skip


R = TypeVar("R")


def guarded(
    rows: Callable[[R], Iterator[tuple[int, Row]]],
) -> Callable[[R], Iterator[tuple[int, Row]]]:
    """A source's ``rows``, its damaged-file errors said as :func:`unreadable` says them.

    Only what the reading raises is translated: an error of the importer consuming the rows
    is raised where it happens, outside this generator."""

    @functools.wraps(rows)
    def reading(self: R) -> Iterator[tuple[int, Row]]:
        try:
            yield from rows(self)
        except READ_ERRORS as exc:
            info = self.info  # type: ignore[attr-defined]
            if not _damaged(exc, info.format == "xlsx"):
                raise
            raise unreadable(info.path, exc) from exc

    return reading


class CsvSource:
    """Delimited text with any delimiter and quoting; opened lazily, read once."""

    def __init__(self, path: Path, encoding: str | None = None) -> None:
        self.encoding = _text_encoding(path, encoding)
        self.path = path
        with path.open("r", encoding=self.encoding, newline="") as fh:
            sample = fh.read(SNIFF_BYTES)
            whole = len(sample) < SNIFF_BYTES
            if not whole:
                # The line the sample cuts, whole: a header of thousands of columns was
                # otherwise cut short, and every line was refused as wider than it.
                sample += fh.readline()
        self.dialect, self.whitespace = _sniff_dialect(sample, whole)
        first = next(_records(csv.reader(io.StringIO(sample, newline=""), self.dialect)), [])
        self.headers = _unique_headers(first)
        self.info = SourceInfo(
            path, "csv", self.encoding, self.headers, delimiter=self.dialect.delimiter
        )

    @guarded
    def rows(self) -> Iterator[tuple[int, Row]]:
        with self.path.open("r", encoding=self.encoding, newline="") as fh:
            reader = csv.reader(fh, self.dialect)
            headers = self.headers
            width = len(headers)
            start = 1
            held: tuple[int, Row] | None = None  # the last record, checked at the end
            held_end = 0
            try:
                next(_records(reader), None)  # the header, after any blank lines
                start = reader.line_num + 1
                for values in reader:
                    line = start
                    start = reader.line_num + 1
                    # Blank unless some cell holds a non-space: one join and strip, in C, and
                    # only when the first cell is itself blank (most lines start with their key).
                    first = values[0] if values else ""
                    if (not first or first.isspace()) and not "".join(values).strip():
                        continue
                    if held is not None:
                        yield held
                    if len(values) > width and "".join(values[width:]).strip():
                        held = line, _too_wide(headers, values, self.dialect.delimiter)
                    else:
                        held = line, dict(zip(headers, values, strict=False))
                    held_end = start - 1  # the physical line this record ended on
                if held is not None:
                    if held_end > held[0] and self._left_open(held[0], held_end):
                        held = held[0], {**held[1], INVALID: "", INVALID_REASON: _(
                            "a quote opened on this line is never closed: every line after "
                            "it was read into one cell"
                        )}  # fmt: skip
                    yield held
            except csv.Error as exc:  # a cell beyond the field limit, a stray NUL
                raise InvalidInput(
                    _("{file}, line {line}: {reason}").format(
                        file=self.path.name, line=start, reason=exc
                    ),
                    field="path",
                ) from exc

    def _left_open(self, first: int, last: int) -> bool:
        """Whether the record on lines ``first``–``last`` (the file's last) ends inside a
        quoted cell, where the forgiving reader took every line after an unclosed quote into
        one cell without a word. Only for a last record that spans lines, which is rare:
        its lines are found by reading the file again, and scanned as the reader reads."""
        with self.path.open("r", encoding=self.encoding, newline="") as fh:
            text = "".join(t for n, t in enumerate(fh, start=1) if first <= n <= last)
        return _ends_quoted(text, self.dialect)


def _ends_quoted(text: str, dialect: Any) -> bool:
    """Whether reading ``text`` as ``csv`` does (not strictly) ends inside a quoted cell: a
    quote opens one only at a cell's start; inside, a doubled quote (or an escaped one) is
    a quote and a single one closes it; any other quote is a character of its cell."""
    quote, delimiter = dialect.quotechar or '"', dialect.delimiter
    escape, doubled = dialect.escapechar, dialect.doublequote
    inside, at_start, i, n = False, True, 0, len(text)
    while i < n:
        c = text[i]
        if inside:
            if escape and c == escape:
                i += 2
                continue
            if c == quote:
                if doubled and text[i + 1 : i + 2] == quote:
                    i += 2
                    continue
                inside = False
        elif c == quote and at_start:
            inside, at_start = True, False
        elif c in (delimiter, "\n", "\r"):
            at_start = True
        elif not (c == " " and at_start and dialect.skipinitialspace):
            at_start = False
            if escape and c == escape:
                i += 1  # the escaped character is the cell's
        i += 1
    return inside


def _starts_with(path: Path, lead: bytes) -> bool:
    """Whether the file's first non-blank byte (after a UTF-8 BOM) is ``lead``."""
    with path.open("rb") as fh:
        head = fh.read(4096).removeprefix(codecs.BOM_UTF8).lstrip()
    return head.startswith(lead)


_MARKUP = re.compile(rb"<[A-Za-z!?]")


def _starts_with_markup(path: Path) -> bool:
    """Whether the file's first non-blank bytes (after a UTF-8 BOM) open a tag, a
    declaration or a comment: ``<`` then an ASCII letter, ``!`` or ``?``."""
    with path.open("rb") as fh:
        head = fh.read(4096).removeprefix(codecs.BOM_UTF8).lstrip()
    return _MARKUP.match(head) is not None


def _records(reader: Iterator[list[str]]) -> Iterator[list[str]]:
    """``reader``'s records from the first that is not blank (exports with blank lines
    before their header)."""
    for values in reader:
        if "".join(values).strip():
            yield values
            yield from reader
            return


def _too_wide(headers: list[str], values: list[Any], delimiter: str) -> Row:
    """A line with more filled cells than the header has columns: a value holding the
    delimiter unquoted (``深圳市,南山区``) has shifted every cell after it, so the line is
    refused (its cells kept for the rejects file) rather than stored shifted with its last
    cells lost."""
    cells, width = len(values), len(headers)
    return {
        **dict(zip(headers, values, strict=False)),
        INVALID: delimiter.join("" if v is None else str(v) for v in values),
        INVALID_REASON: _(
            "this line has {cells} cells but the header {width}; a value holding the "
            "delimiter must be quoted"
        ).format(cells=cells, width=width),
    }


def first_header(numbered: Iterable[tuple[int, Sequence[Any]]]) -> tuple[int, list[str]]:
    """The first row of a sheet that holds a value, as (its number, its cells as headers);
    (0, []) for a sheet with none. Every workbook reader finds its header so."""
    for line, values in numbered:
        if any(v not in (None, "") for v in values):
            return line, _unique_headers(list(values))
    return 0, []


def sheet_rows(
    headers: list[str],
    numbered: Iterable[tuple[int, Sequence[Any]]],
    *,
    after: int = 0,
    convert: Callable[[Any], Any] | None = None,
) -> Iterator[tuple[int, Row]]:
    """A sheet's rows below its header (rows numbered ``after`` or less are passed over) as
    every workbook reader gives them: blank rows left out, a row with a value beyond the
    header refused (:func:`_beyond_header`), cells ``convert``-ed (as they are, when None)."""
    width = len(headers)
    for line, values in numbered:
        if line <= after or not any(v not in (None, "") for v in values):
            continue
        if len(values) > width and any(v not in (None, "") for v in values[width:]):
            yield line, _beyond_header(headers, list(values))
            continue
        if convert is None:
            yield line, dict(zip(headers, values, strict=False))
        else:
            yield line, {h: convert(v) for h, v in zip(headers, values, strict=False)}


def _beyond_header(headers: list[str], values: list[Any]) -> Row:
    """A workbook row with a value in a column that has no header: refused rather than the
    value dropped; the operator names the column or clears the cell."""
    from openpyxl.utils import get_column_letter

    width = len(headers)
    column = next(i for i in range(width, len(values)) if values[i] not in (None, ""))
    return {
        **{h: excel_value(v) for h, v in zip(headers, values, strict=False)},
        INVALID: "",
        INVALID_REASON: _(
            "column {column} holds a value but has no header; give it one or clear the cell"
        ).format(column=get_column_letter(column + 1)),
    }


INVALID = "__invalid__"
"""Key of a row a reader could not make a record of; its value is the line's text."""
INVALID_REASON = "__reason__"
"""Why (when not "not a JSON object")."""

csv.field_size_limit(64 * 1024 * 1024)
"""Cells up to 64 MB are read, so an over-long one is refused by its field's length check
with its line rather than stopping the import (the default limit is 128 KB)."""


def excel_value(value: Any) -> Any:
    """A cell as text, except dates: Excel numbers come as floats, written with the 15
    significant digits Excel itself keeps, so ``1234.5`` stays exactly 1234.5."""
    if value is None or isinstance(value, str | dt.date | dt.datetime):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        # Excel keeps 15 significant digits; a formula's result (19.9 × 3) is stored with
        # binary noise past them (59.699999999999996), which Excel never shows.
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        if value.is_integer():  # an 18-digit number: Excel's 110101199001011000, not the
            # float's own 110101199001011008
            return str(int(Decimal(format(value, ".15g"))))
        return format(value, ".15g")
    if isinstance(value, dt.time):
        return value.isoformat()
    return str(value)


_ZEROS = re.compile(r"0{2,}").fullmatch
"""A number format that pads with zeros: Excel shows 123 formatted ``00000`` as 00123."""


def _pads_with_zeros(wb: Any) -> bool:
    """Whether any cell style of the workbook has a zero-padding number format (read from
    the workbook's style table, so a workbook without one reads its rows as plain values)."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS_MAX_SIZE

    custom = getattr(wb, "_number_formats", None)
    styles = getattr(wb, "_cell_styles", None)
    if custom is None or styles is None:  # another openpyxl: look at every cell
        return True
    ids = {style.numFmtId - BUILTIN_FORMATS_MAX_SIZE for style in styles}
    return any(_ZEROS(custom[i]) for i in ids if 0 <= i < len(custom))


_ERROR_CELLS = frozenset(
    ("#N/A", "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#GETTING_DATA")
)
"""What openpyxl gives for an error cell, which holds no value: blank, as the old workbook,
web page and XML spreadsheet readers give it (read as text, ``#N/A`` was refused as a phone
or stored as a customer's name). openpyxl gives an error cell's text only, so a text cell
holding exactly one of these, which Excel shows as the error it looks like, is blank too."""


def _shown(cell: Any) -> Any:
    """A cell's value; a whole number under a zero-padding format as Excel shows it
    (``00123``), as a code or a postcode is often kept: read as 123, it named no customer."""
    value = cell.value
    if value.__class__ in (int, float) and value >= 0 and value == int(value):
        pad = _ZEROS(cell.number_format)
        if pad:
            return str(int(value)).zfill(len(pad.group()))
    return value


_PREFIX = re.compile(rb"<([\w.-]+:)?worksheet\b")
_OFFICE_DOCUMENT = re.compile(
    rb"<(?:[\w.-]+:)?Relationship\b(?=[^>]*\bType=\"[^\"]*/officeDocument\")[^>]*"
    rb"\bTarget=\"/?([^\"]+)\""
)
_FULL_CALC = re.compile(rb"<(?:[\w.-]+:)?calcPr\b[^>]*\bfullCalcOnLoad=\"(?:1|true)\"")
_CELL_REF = re.compile(rb"\br=\"([A-Z]+)([0-9]+)\"")
_CELL_TYPE = re.compile(rb"\bt=\"([^\"]*)\"")
_ROW_NUMBER = re.compile(rb"[^>]*?\br=\"([0-9]+)\"")


def _formula_pattern(prefix: bytes) -> re.Pattern[bytes]:
    """A formula element (``<f>…</f>``, or a shared one's ``<f …/>``) and the saved result
    after it, if any (group 1 the ``<v>`` element, group 2 its text; group 3 a text result
    held as an inline string, ``<is>``): a cell holds them in that order. Formula text
    holds no ``<`` (XML writes ``&lt;``)."""
    p = re.escape(prefix)
    return re.compile(
        b"<" + p + rb"f\b(?:[^>]*/>|[^>]*>[^<]*</" + p + rb"f>)\s*"
        b"(?:(<" + p + rb"v\s*/>|<" + p + rb"v>([^<]*)</" + p + rb"v>)|(<" + p + rb"is\b))?"
    )


def _calculated_on_opening(archive: Any) -> bool:
    """Whether the workbook asks to be calculated when opened (``fullCalcOnLoad``), as the
    libraries that write formulas without calculating them do: XlsxWriter stores 0 as each
    result, openpyxl none. Some that calculate ask it too (PHPExcel stores the results it
    calculated, 0 where it calculated none). Excel, WPS and LibreOffice drop the flag when
    they save."""
    try:
        found = _OFFICE_DOCUMENT.search(archive.read("_rels/.rels"))
        return found is not None and bool(_FULL_CALC.search(archive.read(found.group(1).decode())))
    except KeyError:  # no package relationships (openpyxl reads on), or a part they name
        return False  # that the package does not hold


def _unsaved_results(path: Path, member: str, until_row: int | None) -> tuple[int, list[str]]:
    """(how many formula cells of the sheet part ``member`` have no saved result, the first
    three of their references), in rows up to ``until_row`` (all when None).

    openpyxl (``data_only``) reads such a cell as blank, like an empty one; in a workbook
    to be calculated on opening, a number 0 stored as the result is the one a library
    stores in place of a result it did not calculate (XlsxWriter, PHPExcel), while any other
    result is one it calculated. The part's XML is scanned as bytes a megabyte at a time, not
    parsed again (ElementTree's iterparse alone took 3–4 s): a sheet of 100,000 rows by 6
    columns (30 MB of XML) with a formula a row takes 0.12 s, 0.04 s without, against 3.5 s
    for openpyxl to read its rows."""
    import zipfile

    count, refs = 0, list[str]()
    with zipfile.ZipFile(path) as archive, archive.open(member) as fh:
        recalculated = _calculated_on_opening(archive)
        prefix: bytes | None = None  # of the sheet's element names (``x:``), often none
        rest = b""
        while True:
            chunk = fh.read(_CHUNK)
            data = rest + chunk
            if chunk:
                # Whole rows only: a cut after a row's end tag falls between cells.
                cut = data.rfind(b"row>") + 4
                if cut < 4:
                    rest = data
                    continue
                data, rest = data[:cut], data[cut:]
            if prefix is None:
                root = _PREFIX.search(data)
                prefix = root.group(1) or b"" if root else b""
                formulas = _formula_pattern(prefix)
            for m in formulas.finditer(data):
                # The cell's start tag is right before its formula, its first child.
                tag = data[data.rfind(b"<", 0, m.start()) : m.start()]
                if m.group(3) is not None:
                    continue  # a text result, held as an inline string
                value, text = m.group(1), (m.group(2) or b"").strip()
                typed = _CELL_TYPE.search(tag)
                kind = typed.group(1) if typed else b"n"
                # A result: an empty one is a formula giving text "" (``t="str"``); a number
                # 0 in a workbook to be calculated on opening stands in for one.
                if (
                    value is not None
                    and (text or kind == b"str")
                    and not (recalculated and kind == b"n" and text == b"0")
                ):
                    continue
                ref = _CELL_REF.search(tag)
                if until_row is not None and ref is not None and int(ref.group(2)) > until_row:
                    continue
                count += 1
                if ref is not None and len(refs) < 3:
                    refs.append((ref.group(1) + ref.group(2)).decode())
            if not chunk:
                break
            if until_row is not None:
                start = data.rfind(b"<" + prefix + b"row ")
                last = _ROW_NUMBER.match(data, start) if start >= 0 else None
                if last is not None and int(last.group(1)) > until_row:
                    break
    return count, refs


def _workbook_file(path: Path) -> Path | io.BytesIO:
    """``path`` as openpyxl opens it: it refuses a file by its name, so one of today's
    workbooks sent under an .xls name is handed over as bytes, each time it is opened."""
    return path if path.suffix.lower() in (".xlsx", ".xlsm") else io.BytesIO(path.read_bytes())


class XlsxSource:
    """The first sheet (or ``sheet``) of a workbook, through openpyxl's read-only mode, which
    streams the sheet XML instead of building every cell in memory."""

    def __init__(self, path: Path, sheet: str | None = None) -> None:
        import openpyxl

        self.path = path
        self.encoding = None
        self._wb = openpyxl.load_workbook(_workbook_file(path), read_only=True, data_only=True)
        if sheet:
            if sheet not in self._wb.sheetnames:
                raise InvalidInput(
                    _("no sheet {sheet} in {file} (sheets: {names})").format(
                        sheet=sheet, file=path.name, names=", ".join(self._wb.sheetnames)
                    ),
                    field="sheet",
                )
            self._ws = self._wb[sheet]
        else:
            self._ws = self._wb.worksheets[0]
        # The size a workbook records for its sheet may be stale (written by other tools);
        # read-only mode trusts it and would stop there, so have the rows read to the end.
        self._ws.reset_dimensions()
        self.header_row, self.headers = first_header(
            enumerate(self._ws.iter_rows(values_only=True), start=1)
        )
        self.info = SourceInfo(path, "xlsx", None, self.headers, sheet=self._ws.title)
        self._read = False

    def _reopen(self) -> None:
        import openpyxl

        self._wb = openpyxl.load_workbook(_workbook_file(self.path), read_only=True, data_only=True)
        self._ws = self._wb[self.info.sheet or self._wb.sheetnames[0]]
        self._ws.reset_dimensions()

    def unsaved_formulas(self, rows: int | None = None) -> str | None:
        """A warning naming the formula cells that have no saved result (read as blank, or
        as the 0 a library put in their place), over the whole sheet or its first ``rows``
        rows after the header; None when there are none. The sheet's part is found by
        openpyxl's own name for it: another openpyxl without one is not checked."""
        member = getattr(self._ws, "_worksheet_path", None)
        if not isinstance(member, str):
            return None
        until = None if rows is None else self.header_row + rows
        count, refs = _unsaved_results(self.path, member, until)
        if not count:
            return None
        cells = ", ".join(refs) + ("…" if count > len(refs) else "")
        if rows is not None:
            said = _("sheet {sheet}: formulas with no saved result ({cells}) are read as blank "
                     "or 0")  # fmt: skip
        else:
            said = ngettext(
                "sheet {sheet}: {count} formula cell has no saved result ({cells}) and is "
                "read as blank or 0",
                "sheet {sheet}: {count} formula cells have no saved result ({cells}) and are "
                "read as blank or 0",
                count,
            )
        return _("{problem}; {advice}").format(
            problem=said.format(sheet=self._ws.title, count=format_number(count), cells=cells),
            advice=_(
                "open the workbook in Excel, WPS or LibreOffice and save it so that the "
                "results are stored, then import it"
            ),
        )

    @guarded
    def rows(self) -> Iterator[tuple[int, Row]]:
        if self._read:  # read before (a dry run's first pass), which closed the workbook
            self._reopen()
        self._read = True
        try:
            rows: Iterator[tuple[Any, ...]]
            if _pads_with_zeros(self._wb):  # cells, to see their formats: a little slower
                cells = self._ws.iter_rows(min_row=self.header_row + 1)
                rows = (tuple(_shown(c) for c in row) for row in cells)
            else:
                rows = self._ws.iter_rows(min_row=self.header_row + 1, values_only=True)
            numbered = (
                (line, _without_errors(values))
                for line, values in enumerate(rows, start=self.header_row + 1)
            )
            yield from sheet_rows(self.headers, numbered, convert=excel_value)
        finally:
            self._wb.close()


def _without_errors(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """A row's error cells (``#N/A``…) blank, as the other workbook formats read them."""
    if _ERROR_CELLS.isdisjoint(values):
        return values
    return tuple(None if v in _ERROR_CELLS else v for v in values)


class JsonLinesSource:
    """One JSON object per line; numbers parsed as Decimal so no float ever appears."""

    def __init__(self, path: Path, encoding: str | None = None) -> None:
        self.path = path
        self.encoding = _text_encoding(path, encoding)
        # Every line's keys, not the first lines' only: exports leave out a record's empty
        # keys, so a field may first appear on line 300 000.
        headers: dict[str, None] = {}
        known: set[str] = set()
        # Plain ``json.loads`` (2 s a million lines): the keys are all this pass needs, so
        # no Decimal numbers, and a line naming only keys seen already costs one set test.
        with path.open("r", encoding=self.encoding) as fh:
            for text in fh:
                try:
                    obj = json.loads(text.lstrip("\ufeff"))
                except ValueError:  # a broken or blank line: ``rows`` reports it
                    continue
                if type(obj) is dict and not obj.keys() <= known:
                    known.update(obj)
                    headers.update(dict.fromkeys(obj))
        self.headers = list(headers)
        self.info = SourceInfo(path, "jsonl", self.encoding, self.headers)

    @staticmethod
    def _parse(text: str) -> Any:
        text = text.strip().lstrip("\ufeff")
        if not text:
            return None
        try:
            return json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError:
            return ...

    @guarded
    def rows(self) -> Iterator[tuple[int, Row]]:
        with self.path.open("r", encoding=self.encoding) as fh:
            for line, text in enumerate(fh, start=1):
                obj = self._parse(text)
                if obj is None:
                    continue
                if not isinstance(obj, dict):
                    # A broken line still becomes a row, so it is rejected with its number.
                    yield line, {INVALID: text.rstrip("\r\n")}
                    continue
                yield line, {k: _json_value(v) for k, v in obj.items()}


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, Decimal):
        # Positional, as the number was meant: 1.5e2 is the amount 150, not the text 1.5E+2
        # that no field reads (trailing zeros stay: 12.50 is 12.50).
        return format(value, "f")
    return str(value)


Source: TypeAlias = (
    "CsvSource | XlsxSource | JsonLinesSource | XlsSource | HtmlTableSource | XmlSpreadsheetSource"
)


def open_source(
    path: Path | str, *, encoding: str | None = None, sheet: str | None = None
) -> Source:
    """The right reader for ``path``, chosen by its content (old workbooks, web pages and XML
    spreadsheets, read by ``readers_legacy``), else by its extension (.xlsx, .jsonl, else
    delimited). A damaged file is said as :func:`unreadable` says it, here and as its rows
    are read."""
    path = Path(path)
    try:
        return _open_source(path, encoding, sheet)
    except READ_ERRORS as exc:
        if not _damaged(exc, _read_as_workbook(path)):
            raise
        raise unreadable(path, exc) from exc


def _read_as_workbook(path: Path) -> bool:
    """Whether openpyxl reads ``path``: named as a workbook, or a zip under another name."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return True
    try:
        with path.open("rb") as fh:
            return fh.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def _open_source(path: Path, encoding: str | None, sheet: str | None) -> Source:
    if path.is_dir():
        raise InvalidInput(
            _("{file} is a folder; give a file in it").format(file=path), field="path"
        )
    if not path.is_file():
        raise InvalidInput(_("no such file: {file}").format(file=path), field="path")
    kind = file_format(path)
    if kind in ("xls", "html", "xml spreadsheet"):
        from tricrm_tui.services import readers_legacy

        return readers_legacy.open_sheet(path, kind, encoding=encoding, sheet=sheet)
    if path.suffix.lower() == ".xls" and _starts_with_markup(path):
        # Many systems write tab-separated text under that name, which is read as the text
        # it is (a header may start with "<", as <客户编号> does); markup that is neither a
        # web page nor an XML spreadsheet is not.
        raise InvalidInput(
            _("{file} is markup that is neither a web page table nor an Excel XML "
              "spreadsheet; export it again as CSV or XLSX").format(file=path.name),
            field="path",
        )  # fmt: skip
    if kind == "jsonl" and _starts_with(path, b"["):
        raise InvalidInput(
            _("{file} is one JSON array; tricrm reads JSON Lines, one object per line "
              "(jq -c '.[]' turns one into the other)").format(file=path.name),
            field="path",
        )  # fmt: skip
    if kind == "xlsx":
        return XlsxSource(path, sheet)
    if kind == "jsonl":
        return JsonLinesSource(path, encoding)
    return CsvSource(path, encoding)
