"""The "Excel" files legacy systems write that are not today's workbooks, read as sheets.

Three kinds arrive under an ``.xls`` name (the XML one also as ``.xml``), and an operator at
an SSH terminal has no Excel to save them again with:

- a real old workbook (BIFF, Excel 97–2003; OLE2 signature ``D0 CF 11 E0``), read with
  ``xlrd``;
- a web page holding an HTML ``<table>``, which many Chinese web back-offices send as their
  "Excel export" (Excel opens it), often in GBK; read with the standard ``html.parser``;
- an XML Spreadsheet 2003 (``<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">``),
  written by older Java and .NET systems; read with ``ElementTree.iterparse``.

Each source behaves as :class:`~tricrm_tui.services.readers.XlsxSource` does, so the
importer, the preview and ``--show-mapping`` cannot tell them apart: the header is the first
row with a value (blank rows above it are skipped; a merged header's other cells are blank
and named ``column_N``), a line number is the row's number in the sheet (in the table, for a
web page), blank rows are skipped, a value under no header refuses its row, and cells come
out as XLSX cells do: text as written, whole numbers without ``.0``, other numbers with the
15 digits Excel keeps, a number under a zero-padding format as Excel shows it (``00123``),
dates and date-times as ``datetime``, booleans as ``true``/``false``. An error cell
(``#N/A``, ``#REF!``) is blank: it holds no value, and a phone or code made of it would be
refused for a fault the operator cannot fix in the cell. Their ``encoding`` is None, as a
workbook's: their rejects are written as an XLSX file's are (CSV in UTF-8 with a BOM). The
encoding a web page was read in (or one ``--encoding`` named) is in ``info.encoding``, for
the summary's ``html (gb18030)``.
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from tricrm_tui.i18n import _
from tricrm_tui.services.errors import InvalidInput
from tricrm_tui.services.readers import (
    _BOMS,
    _ZEROS,
    Row,
    SourceInfo,
    _big5,
    _decodes_strictly,
    _text_encoding,
    _undecodable_line,
    check_encoding,
    detect_encoding,
    excel_value,
    first_header,
    guarded,
    sheet_rows,
)

XLS = "xls"
HTML = "html"
XML_SPREADSHEET = "xml spreadsheet"
SHEET_FORMATS = (XLS, HTML, XML_SPREADSHEET)
"""Formats read here; their cells, like an XLSX file's, may carry an export's formula marks."""

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"
_SPREADSHEET_NS = "urn:schemas-microsoft-com:office:spreadsheet"
_HEAD = 8192
_HTML_START = re.compile(r"<(?:!doctype\s+html|html|head|meta|title|style|body|table)[\s>/]")
_WORKBOOK_START = re.compile(r"<(?:[\w.-]+:)?workbook[\s>/]")
_COMMENTS = re.compile(r"(?:\s*<!--.*?-->)*\s*", re.DOTALL)


def sniff_format(path: Path) -> str | None:
    """The format of ``path`` told by its content, when it is one read here (or a workbook
    of today's kind sent under an ``.xls`` name: ``xlsx``); None for text, left to the
    name. The name cannot be trusted: the same ``.xls`` may be any of the three, or
    tab-separated text."""
    with path.open("rb") as fh:
        head = fh.read(_HEAD)
    if head.startswith(_OLE2):
        return XLS
    if head.startswith(_ZIP):
        return "xlsx" if path.suffix.lower() == ".xls" else None
    text = _head_text(head)
    if text.startswith("<?xml"):
        if _SPREADSHEET_NS in text:
            return XML_SPREADSHEET
        return HTML if "<html" in text.lower() else None
    opening = _COMMENTS.match(text)
    start = text[opening.end() if opening else 0 :].lower()
    if _WORKBOOK_START.match(start) and _SPREADSHEET_NS in text:
        return XML_SPREADSHEET  # written without the XML declaration, which is optional
    return HTML if _HTML_START.match(start) else None


def _head_text(head: bytes) -> str:
    """The file's first bytes as text enough to see its markup: ASCII is all that is looked
    at, so any byte encoding reads as Latin-1; UTF-16 and UTF-32 need their BOM."""
    for bom, name in _BOMS:
        if head.startswith(bom) and name != "utf-8-sig":
            return head.decode(name, errors="ignore").lstrip("\ufeff").lstrip()
    return head.removeprefix(codecs.BOM_UTF8).decode("latin-1").lstrip()


def open_sheet(
    path: Path, kind: str, *, encoding: str | None = None, sheet: str | None = None
) -> XlsSource | HtmlTableSource | XmlSpreadsheetSource:
    """The reader for ``path``, of the ``kind`` :func:`sniff_format` found."""
    if kind == XLS:
        return XlsSource(path, sheet, encoding)
    if kind == XML_SPREADSHEET:
        return XmlSpreadsheetSource(path, sheet, encoding)
    if sheet:
        # A page has tables, not named sheets: reading the first one instead of the one
        # meant would import the wrong rows without a word.
        raise InvalidInput(
            _("{file} is a web page: tricrm reads its first table, and --sheet is for "
              "workbooks").format(file=path.name),
            field="sheet",
        )  # fmt: skip
    return HtmlTableSource(path, encoding)


# -- the sheet every reader here gives ---------------------------------------------------


class SheetSource:
    """What the importer, the preview and ``--show-mapping`` use of a source: ``path``,
    ``encoding``, ``headers``, ``info``, ``rows()``; and ``last_line()`` for the progress
    bar's total and the bulk-load threshold. A subclass gives its rows as converted cells
    through ``_grid``."""

    path: Path
    encoding: str | None = None
    headers: list[str]
    header_row: int
    info: SourceInfo

    def _grid(self, after: int = 0) -> Iterator[tuple[int, list[Any]]]:
        """(row number, cells) from the sheet's top, or from row ``after`` where skipping
        is cheap; blank rows may be left out."""
        raise NotImplementedError

    def _find_header(self) -> None:
        """The first row holding a value is the header, as in an XLSX sheet."""
        self.header_row, self.headers = first_header(self._grid())

    def last_line(self) -> int | None:
        """The number of the sheet's last row, or a bound on it; None when not known."""
        return None

    @guarded
    def rows(self) -> Iterator[tuple[int, Row]]:
        yield from sheet_rows(self.headers, self._grid(self.header_row), after=self.header_row)


def _missing_sheet(path: Path, sheet: str, names: list[str]) -> InvalidInput:
    """The message an XLSX workbook gives for a sheet it lacks."""
    return InvalidInput(
        _("no sheet {sheet} in {file} (sheets: {names})").format(
            sheet=sheet, file=path.name, names=", ".join(names)
        ),
        field="sheet",
    )


def _padded(value: float, zeros: str) -> str | None:
    """A whole, non-negative number as a zero-padding format shows it (123 as ``00123``),
    as a code or a postcode is often kept; None for any other number."""
    if value >= 0 and value == int(value):
        return str(int(value)).zfill(len(zeros))
    return None


def _excel_time(moment: dt.datetime) -> dt.datetime | dt.time:
    """A date-time on Excel's day zero (an XML spreadsheet writes a time of day as
    ``1899-12-31T10:30:00``) is a time of day, as openpyxl gives it for an XLSX cell."""
    return moment.time() if moment.date() <= dt.date(1899, 12, 31) else moment


# -- (a) old binary workbooks ------------------------------------------------------------

# Why xlrd: since 2.0 it reads BIFF (.xls) and nothing else, is pure Python (it installs
# wherever tricrm does, with no wheel to match), is still maintained, and hands over each
# cell's type and format: date cells are told from numbers, and a code stored as 123 under
# the format 00000 is shown as 00123, as the XLSX reader shows it. python-calamine (Rust)
# reads faster, but gives cell values without their number formats (those codes would
# lose their zeros), and is a compiled extension to keep in step, for a format that only
# shrinks.

_TEXT, _NUMBER, _DATE, _BOOLEAN = 1, 2, 3, 4  # xlrd's cell types (XL_CELL_*)


class XlsSource(SheetSource):
    """The first sheet (or ``sheet``) of an old binary workbook. xlrd reads the whole sheet
    into memory, which the format bounds (65,536 rows; 65,000 rows of 10 columns took about
    70 MB); on demand, so the other sheets are not parsed."""

    def __init__(self, path: Path, sheet: str | None = None, encoding: str | None = None) -> None:
        import xlrd

        self.path = path
        # Excel 95 files name their code page, or should: ``--encoding`` names it for those
        # that do not (a Chinese one is cp936); Excel 97 and later store text as UTF-16.
        override = check_encoding(encoding) if encoding else None
        try:
            book = xlrd.open_workbook(
                str(path),
                formatting_info=True,  # the cells' number formats, for zero-padded codes
                on_demand=True,  # only the sheet asked for is parsed
                ragged_rows=True,  # no empty cells kept past each row's last
                encoding_override=override,
                logfile=io.StringIO(),  # its warnings went to stdout, into --format json
            )
            names = book.sheet_names()
            if sheet and sheet not in names:
                raise _missing_sheet(path, sheet, names)
            self._ws = book.sheet_by_name(sheet) if sheet else book.sheet_by_index(0)
        except InvalidInput:
            raise
        except Exception as exc:  # xlrd meets a damaged file with whatever error it hits
            raise _unreadable_xls(path, exc) from exc
        self._datemode = book.datemode
        self._padding = {
            i: pad.group()
            for i, xf in enumerate(book.xf_list)
            if (fmt := book.format_map.get(xf.format_key)) and (pad := _ZEROS(fmt.format_str))
        }
        book.release_resources()  # the file is closed; the loaded sheet stays
        self._find_header()
        self.info = SourceInfo(path, XLS, override, self.headers, sheet=self._ws.name)

    def last_line(self) -> int | None:
        return int(self._ws.nrows)

    def _grid(self, after: int = 0) -> Iterator[tuple[int, list[Any]]]:
        ws = self._ws
        for rowx in range(after, ws.nrows):  # row ``after`` + 1 is at index ``after``
            types = ws.row_types(rowx)
            values = ws.row_values(rowx)
            cells: list[Any] = []
            for colx, (kind, value) in enumerate(zip(types, values, strict=True)):
                if kind == _TEXT:
                    cells.append(value)
                elif kind == _NUMBER:
                    cells.append(self._number(rowx, colx, value))
                elif kind == _DATE:
                    cells.append(self._date(value))
                elif kind == _BOOLEAN:
                    cells.append("true" if value else "false")
                else:  # empty, blank (formatted, no value), error (#N/A…)
                    cells.append(None)
            yield rowx + 1, cells

    def _number(self, rowx: int, colx: int, value: float) -> str:
        if self._padding:
            zeros = self._padding.get(self._ws.cell_xf_index(rowx, colx))
            if zeros and (shown := _padded(value, zeros)) is not None:
                return shown
        return str(excel_value(value))

    def _date(self, value: float) -> Any:
        from xlrd.xldate import XLDateError, xldate_as_datetime  # imported with the book

        try:
            moment = xldate_as_datetime(value, self._datemode)
        except (XLDateError, ValueError, OverflowError):  # a negative or huge serial
            return excel_value(value)
        # A serial below 1 is a time of day (a cell formatted hh:mm), as openpyxl reads it.
        return moment.time() if 0 <= value < 1 else moment


def _unreadable_xls(path: Path, exc: Exception) -> InvalidInput:
    """The message for an old workbook xlrd could not open."""
    reason = str(exc)
    if "encrypted" in reason or _holds_encrypted_package(path):
        # xlrd's words for a FILEPASS record; a protected XLSX is an OLE2 file holding an
        # EncryptedPackage stream.
        return InvalidInput(
            _("{file} is protected with a password, which tricrm cannot open; ask for a "
              "copy without one, or for a CSV export").format(file=path.name),
            field="path",
        )  # fmt: skip
    return InvalidInput(
        _("{file} cannot be read as an old Excel workbook (.xls): {reason}").format(
            file=path.name, reason=reason or type(exc).__name__
        ),
        field="path",
    )


def _holds_encrypted_package(path: Path) -> bool:
    name = "EncryptedPackage".encode("utf-16-le")
    with path.open("rb") as fh:
        tail = b""
        while chunk := fh.read(1 << 20):
            if name in tail + chunk:
                return True
            tail = chunk[-len(name) :]
    return False


# -- encodings of markup -----------------------------------------------------------------

_META_CHARSET = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.I)
_XML_ENCODING = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9_.:-]+)", re.I)
_GB = {"gb2312", "gbk", "x-gbk", "gb_2312-80", "csgb2312", "chinese", "cp936", "gb18030",
       "windows-936", "iso-ir-58"}  # fmt: skip
_BIG5 = {"big5", "big5-hkscs", "x-x-big5", "cn-big5", "csbig5"}
_LATIN1 = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii", "ascii", "windows-1252"}


def _declared_codec(path: Path, label: bytes) -> str | None:
    """The codec to read a page or XML with, from the charset it declares, as browsers map
    the names: GB2312 and GBK pages are read as GB18030 (their superset: a GBK page holds
    characters GB2312 lacks), Latin-1 as Windows-1252. None for a name Python does not know
    or a text encoding it is not."""
    name = label.decode("ascii", errors="ignore").strip().lower()
    if name in _GB:
        return "gb18030"
    if name in _BIG5:
        return _big5(path) or "big5hkscs"
    if name in _LATIN1:
        return "cp1252"
    if name.startswith(("utf-16", "utf-32", "ucs")):
        # Read as ASCII to be found, the page cannot be in them (browsers read it as UTF-8).
        return "utf-8"
    try:
        return check_encoding(name)
    except InvalidInput:
        return None


def _head_bom(path: Path) -> tuple[bytes, str | None]:
    with path.open("rb") as fh:
        head = fh.read(64 * 1024)
    for bom, name in _BOMS:
        if head.startswith(bom):
            return head, name
    return head, None


# -- (b) web pages ------------------------------------------------------------------------


class HtmlTableSource(SheetSource):
    """The first ``<table>`` of a web page with a row holding a value. Parsed as a stream
    with the standard library's forgiving parser (omitted ``</td>`` and ``</tr>``, stray
    tags and unquoted attributes are what such exports hold): the file is fed a chunk at a
    time and the parse stops at the table's end, so a page of any size costs one row's
    memory. A DOM (lxml, BeautifulSoup) would hold the whole page, and add a dependency.

    Encoding: a BOM; else the charset the page declares (``<meta charset>`` or the
    ``http-equiv`` content type), when the whole file reads in it; else the detection the
    CSV reader uses; ``--encoding`` overrides it all."""

    def __init__(self, path: Path, encoding: str | None = None) -> None:
        self.path = path
        self.text_encoding = _page_encoding(path, encoding)
        self._find_header()
        if not self.header_row:
            raise InvalidInput(
                _("{file} is a web page with no table holding a value; tricrm reads the "
                  "first table that has one").format(file=path.name),
                field="path",
            )  # fmt: skip
        self.info = SourceInfo(path, HTML, self.text_encoding, self.headers)

    def _grid(self, after: int = 0) -> Iterator[tuple[int, list[Any]]]:
        parser = _TableParser()
        with self.path.open("r", encoding=self.text_encoding, newline="") as fh:
            while not parser.done and (text := fh.read(1 << 16)):
                parser.feed(text)
                yield from parser.take()
            parser.close()
            yield from parser.take()

    def last_line(self) -> int | None:
        """The rows of every table in the file (``<tr`` counted over its bytes): a bound
        on the first table's last row, which ends the count as a line count ends a CSV."""
        return _tags_in(self.path, self.text_encoding, r"<[tT][rR][\s>/]")


def _tags_in(path: Path, encoding: str, pattern: str) -> int:
    """How often ``pattern`` (a tag's start, ``<…``) occurs in the file, in one fast pass
    over its bytes; over its text in UTF-16 and UTF-32, where markup is not ASCII bytes."""
    wide = encoding.lower().replace("_", "-").startswith(("utf-16", "utf-32"))
    regex = re.compile(pattern if wide else pattern.encode())
    lt: Any = "<" if wide else b"<"
    n = 0
    with path.open("r", encoding=encoding, errors="replace") if wide else path.open("rb") as fh:
        held = lt[:0]
        while chunk := fh.read(1 << 20):
            # Counted up to the chunk's last "<", which may open a tag cut by its end: no
            # match holds a "<" but its first character, so none is cut or counted twice.
            data = held + chunk
            cut = data.rfind(lt)
            n += len(regex.findall(data, 0, cut if cut >= 0 else len(data)))
            held = data[cut:] if cut >= 0 else lt[:0]
        n += len(regex.findall(held))
    return n


def _page_encoding(path: Path, encoding: str | None) -> str:
    if encoding:
        return _text_encoding(path, encoding)
    head, bom = _head_bom(path)
    if bom:
        return bom
    found = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    if found:
        codec = _declared_codec(path, found.group(1))
        # A page that says GBK and is UTF-8 (a template's meta, another program's data) is
        # common enough: the declaration is taken only when the whole file reads in it.
        if codec and _decodes_strictly(path, codec):
            return codec
    return detect_encoding(path)


_SPACE = re.compile(r"[ \t\n\r\f\xa0]+")
"""Whitespace a browser collapses, and the no-break space that exports put in empty cells
so their borders show (``<td>&nbsp;</td>`` is blank)."""
_MAX_SPAN = 1000  # the HTML standard's limit on colspan


class _Table:
    """One open ``<table>``: its row being read, and the rowspans reaching down into it."""

    def __init__(self) -> None:
        self.row: list[str] | None = None
        self.number = 0  # rows begun in this table
        self.lines: list[list[str]] | None = None  # the open cell's text, a list per line
        self.colspan = 1
        self.rowspan = 1
        self.down: dict[int, int] = {}  # column → rows still covered by a rowspan above
        self.new_down: dict[int, int] = {}  # …and those the current row starts

    def start_row(self) -> None:
        self.row = []
        self.number += 1
        self.new_down = {}

    def end_row(self) -> list[str] | None:
        """The row just ended (None when none was open)."""
        row = self.row
        if row is None:
            return None
        self.end_cell()
        self.row = None
        # This row was under every rowspan open above it; the ones it began start below.
        self.down = {c: n - 1 for c, n in self.down.items() if n > 1}
        self.down.update(self.new_down)
        return row

    def start_cell(self, attrs: list[tuple[str, str | None]]) -> None:
        if self.row is None:  # a cell straight in the table: its row is implied
            self.start_row()
        self.end_cell()
        assert self.row is not None
        while len(self.row) in self.down:  # a column a cell above spans down into
            self.row.append("")
        self.colspan = self.rowspan = 1
        for name, value in attrs:  # most cells have none
            if name == "colspan":
                self.colspan = _span(value, _MAX_SPAN)
            elif name == "rowspan":
                self.rowspan = _span(value, 65534)
        self.lines = [[]]

    def end_cell(self) -> None:
        if self.lines is None or self.row is None:
            return
        if len(self.lines) == 1:  # no <br>: most cells
            text = _SPACE.sub(" ", "".join(self.lines[0])).strip()
        else:
            lines = (_SPACE.sub(" ", "".join(parts)).strip() for parts in self.lines)
            text = "\n".join(lines).strip("\n")
        first = len(self.row)
        self.row.append(text)
        self.row.extend([""] * (self.colspan - 1))
        if self.rowspan > 1:
            for column in range(first, first + self.colspan):
                self.new_down[column] = self.rowspan - 1
        self.lines = None


class _TableParser(HTMLParser):
    """Rows of the first table with a row holding a value (an empty spacer table before it
    is passed over), as lists of cell texts: whitespace collapsed, ``<br>`` a line break,
    entities decoded, ``<script>`` and ``<style>`` left out. A cell spanning columns
    (``colspan``) or rows (``rowspan``) is followed by blanks where it spans, as a merged
    cell of a sheet is, so every value stays under its header. Row numbers count the
    table's rows, blank ones too. A table inside the one read is text of its cell."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[_Table] = []  # open around the parser's position, innermost last
        self.chosen: _Table | None = None
        self.done = False
        self.skipping = 0  # inside <script> or <style>
        self.out: list[tuple[int, list[Any]]] = []

    def take(self) -> list[tuple[int, list[Any]]]:
        rows, self.out = self.out, []
        return rows

    def _structure(self) -> _Table | None:
        """The table whose rows and cells tags open and close now: the innermost open one
        until a table is chosen, then that one only (tags of a table nested in it are not)."""
        if not self.tables:
            return None
        inner = self.tables[-1]
        return inner if self.chosen in (None, inner) else None

    def _text(self) -> list[list[str]] | None:
        """Where text goes: the chosen table's open cell (a nested table's text too), or
        before one is chosen, the innermost table's."""
        table = self.chosen or (self.tables[-1] if self.tables else None)
        return table.lines if table is not None else None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done:
            return
        if tag in ("script", "style"):
            self.skipping += 1
        elif tag == "table":
            self.tables.append(_Table())
        elif tag == "br":
            if (lines := self._text()) is not None:
                lines.append([])
        elif tag in ("tr", "td", "th"):
            table = self._structure()
            if table is None:
                if tag != "tr" and (lines := self._text()) is not None:
                    lines[-1].append(" ")  # a nested table's cells, apart in the text
            elif tag == "tr":
                self._end_row(table)
                table.start_row()
            else:
                table.start_cell(attrs)

    def handle_endtag(self, tag: str) -> None:
        if self.done:
            return
        if tag in ("script", "style"):
            self.skipping = max(self.skipping - 1, 0)
        elif tag == "table":
            if self.tables:
                inner = self.tables[-1]
                if self.chosen in (None, inner):
                    self._end_row(inner)
                    self.done = self.chosen is inner
                self.tables.pop()
        elif (table := self._structure()) is not None:
            if tag == "tr":
                self._end_row(table)
            elif tag in ("td", "th"):
                table.end_cell()

    def handle_data(self, data: str) -> None:
        if not self.skipping and not self.done and (lines := self._text()) is not None:
            lines[-1].append(data)

    def close(self) -> None:
        super().close()
        if not self.done and self.tables:  # the file ended inside the table
            self._end_row(self.chosen or self.tables[-1])

    def _end_row(self, table: _Table) -> None:
        row = table.end_row()
        if row is None:
            return
        if self.chosen is None:
            if not any(row):
                return  # a blank row of a table not (yet) read: it may be a spacer
            self.chosen = table
        self.out.append((table.number, row))


_DIGITS = re.compile(r"\s*(\d+)").match


def _span(value: str | None, limit: int) -> int:
    """A ``colspan``/``rowspan`` as browsers read it: a bad or zero one is 1."""
    digits = _DIGITS(value or "")
    return min(max(int(digits.group(1)), 1), limit) if digits else 1


# -- (c) XML Spreadsheet 2003 -------------------------------------------------------------

_SS = "{" + _SPREADSHEET_NS + "}"
_WORKSHEET, _TABLE, _ROW, _CELL, _DATA = (
    _SS + t for t in ("Worksheet", "Table", "Row", "Cell", "Data")
)
_STYLE, _NUMBER_FORMAT = _SS + "Style", _SS + "NumberFormat"
_NAME, _INDEX, _TYPE, _ID = (_SS + a for a in ("Name", "Index", "Type", "ID"))
_STYLE_ID, _MERGE_ACROSS, _ROWS, _FORMAT = (
    _SS + a for a in ("StyleID", "MergeAcross", "ExpandedRowCount", "Format")
)


class XmlSpreadsheetSource(SheetSource):
    """The first worksheet (or the one named ``sheet``) of an XML Spreadsheet 2003, parsed
    as a stream (``iterparse``; each row is dropped once read), stopping at the sheet's end.

    The XML is decoded by Python, not by the parser, which cannot read the GBK a Chinese
    system declares: its declared encoding (GB2312 and GBK as GB18030), else UTF-8, the
    XML default; a BOM first; ``--encoding`` overrides it."""

    def __init__(self, path: Path, sheet: str | None = None, encoding: str | None = None) -> None:
        self.path = path
        self.text_encoding = _xml_encoding(path, encoding)
        given = self.text_encoding if encoding else None  # said in the summary when chosen
        self._sheet = sheet
        self._sheet_name = sheet
        self._names: list[str] = []
        self._found = False
        self._rows: int | None = None
        self._find_header()
        if not self._found:
            if sheet:
                raise _missing_sheet(path, sheet, self._names)
            raise InvalidInput(
                _("{file} is an XML spreadsheet with no worksheet").format(file=path.name),
                field="path",
            )
        self.info = SourceInfo(path, XML_SPREADSHEET, given, self.headers, sheet=self._sheet_name)

    def last_line(self) -> int | None:
        """The sheet's ``ss:ExpandedRowCount`` (Excel writes it); else the rows of every
        sheet, as a bound."""
        if self._rows is None:
            self._rows = _tags_in(self.path, self.text_encoding, r"<(?:\w+:)?Row[\s>/]")
        return self._rows

    def _grid(self, after: int = 0) -> Iterator[tuple[int, list[Any]]]:
        try:
            yield from self._sheet_rows()
        except ET.ParseError as exc:
            line, column = exc.position
            raise InvalidInput(
                _("{file} is not well-formed XML (line {line}, column {column}): {reason}")
                .format(file=self.path.name, line=line, column=column,
                        reason=_POSITION.sub("", exc.msg)),
                field="path",
            ) from exc  # fmt: skip
        except UnicodeDecodeError as exc:
            line = _undecodable_line(self.path, self.text_encoding) or 1
            raise InvalidInput(
                _("line {line} of {file} is not {encoding}; give its encoding with --encoding")
                .format(line=line, file=self.path.name, encoding=self.text_encoding),
                field="encoding",
            ) from exc  # fmt: skip

    def _sheet_rows(self) -> Iterator[tuple[int, list[Any]]]:
        padding: dict[str, str] = {}  # style id → its zero-padding format
        style_id: str | None = None
        reading = found = False  # inside the worksheet read; past its start
        table: ET.Element | None = None
        row_number = 0
        self._names = []
        with self.path.open("r", encoding=self.text_encoding, newline="") as fh:
            for event, elem in ET.iterparse(fh, events=("start", "end")):
                tag = elem.tag
                if event == "start":
                    if tag == _WORKSHEET:
                        name = elem.get(_NAME) or ""
                        self._names.append(name)
                        reading = not found and self._sheet in (None, name)
                        if reading:
                            found = self._found = True
                            self._sheet_name = name
                    elif tag == _TABLE:
                        table = elem
                        if reading and (count := elem.get(_ROWS, "")).isdigit():
                            self._rows = int(count)
                    elif tag == _STYLE:
                        style_id = elem.get(_ID)
                elif tag == _ROW:
                    if reading:
                        index = elem.get(_INDEX)
                        row_number = int(index) if index else row_number + 1
                        yield row_number, self._cells(elem, padding)
                    if table is not None:
                        table.remove(elem)  # read: a million rows cost one row's memory
                elif tag == _WORKSHEET:
                    if reading:
                        return
                    elem.clear()
                elif tag == _NUMBER_FORMAT and style_id and (pad := _ZEROS(elem.get(_FORMAT, ""))):
                    padding[style_id] = pad.group()

    @staticmethod
    def _cells(row: ET.Element, padding: dict[str, str]) -> list[Any]:
        cells: list[Any] = []
        for cell in row:
            if cell.tag != _CELL:
                continue
            index = cell.get(_INDEX)
            if index and index.isdigit():  # cells skipped before this one are blank
                cells.extend([None] * (int(index) - 1 - len(cells)))
            data = cell.find(_DATA)
            zeros = padding.get(cell.get(_STYLE_ID) or "")
            cells.append(None if data is None else _xml_value(data, zeros))
            merged = cell.get(_MERGE_ACROSS)
            if merged and merged.isdigit():
                cells.extend([None] * int(merged))
        return cells


_POSITION = re.compile(r": line \d+, column \d+$")
"""The place expat adds to its message, which ours gives already."""


def _xml_value(data: ET.Element, zeros: str | None) -> Any:
    kind = data.get(_TYPE)
    text = "".join(data.itertext())  # rich text (<B>, <Font>) is the text of its runs
    if kind == "String":
        return text
    if kind == "Number":
        try:
            # As openpyxl casts an XLSX number: an integer stays exact.
            value: float = float(text) if any(c in text for c in ".eE") else int(text)
        except ValueError:
            return text
        if zeros and (shown := _padded(value, zeros)) is not None:
            return shown
        return excel_value(value)
    if kind == "DateTime":
        try:
            return _excel_time(dt.datetime.fromisoformat(text.strip()))
        except ValueError:
            return text
    if kind == "Boolean":
        return "true" if text.strip() == "1" else "false"
    return None  # Error (#N/A…), or no type: no value


def _xml_encoding(path: Path, encoding: str | None) -> str:
    if encoding:
        return _text_encoding(path, encoding)
    head, bom = _head_bom(path)
    if bom:
        return bom
    found = _XML_ENCODING.search(head[:1024])
    codec = _declared_codec(path, found.group(1)) if found else None
    return codec or "utf-8"
