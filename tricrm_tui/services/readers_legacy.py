"""The "Excel" files legacy systems write that are not today's workbooks, read as sheets.

A real old workbook (BIFF, Excel 97–2003; OLE2 signature ``D0 CF 11 E0``) arrives under an
``.xls`` name, and an operator at an SSH terminal has no Excel to save it again with; it is
read with ``xlrd``.

Each source behaves as :class:`~tricrm_tui.services.readers.XlsxSource` does, so the
importer, the preview and ``--show-mapping`` cannot tell them apart: the header is the first
row with a value (blank rows above it are skipped; a merged header's other cells are blank
and named ``column_N``), a line number is the row's number in the sheet, blank rows are
skipped, a value under no header refuses its row, and cells come out as XLSX cells do: text
as written, whole numbers without ``.0``, other numbers with the 15 digits Excel keeps, a
number under a zero-padding format as Excel shows it (``00123``), dates and date-times as
``datetime``, booleans as ``true``/``false``. An error cell (``#N/A``, ``#REF!``) is blank:
it holds no value, and a phone or code made of it would be refused for a fault the operator
cannot fix in the cell. Their ``encoding`` is None, as a workbook's: their rejects are
written as an XLSX file's are (CSV in UTF-8 with a BOM).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tricrm_tui.i18n import _
from tricrm_tui.services.errors import InvalidInput
from tricrm_tui.services.readers import (
    _ZEROS,
    Row,
    SourceInfo,
    _beyond_header,
    _unique_headers,
    check_encoding,
    excel_value,
)

XLS = "xls"
SHEET_FORMATS = (XLS,)
"""Formats read here; their cells, like an XLSX file's, may carry an export's formula marks."""

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"


def sniff_format(path: Path) -> str | None:
    """The format of ``path`` told by its content, when it is one read here (or a workbook
    of today's kind sent under an ``.xls`` name: ``xlsx``); None for anything else, left to
    the name. The name cannot be trusted: an ``.xls`` may be an old workbook, today's, or
    tab-separated text."""
    with path.open("rb") as fh:
        head = fh.read(len(_OLE2))
    if head.startswith(_OLE2):
        return XLS
    if head.startswith(_ZIP):
        return "xlsx" if path.suffix.lower() == ".xls" else None
    return None


def open_sheet(
    path: Path, kind: str, *, encoding: str | None = None, sheet: str | None = None
) -> XlsSource:
    """The reader for ``path``, of the ``kind`` :func:`sniff_format` found."""
    return XlsSource(path, sheet, encoding)


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
        self.header_row = 0
        self.headers = []
        for line, values in self._grid():
            if any(v not in (None, "") for v in values):
                self.header_row = line
                self.headers = _unique_headers(values)
                return

    def last_line(self) -> int | None:
        """The number of the sheet's last row, or a bound on it; None when not known."""
        return None

    def rows(self) -> Iterator[tuple[int, Row]]:
        headers = self.headers
        width = len(headers)
        for line, values in self._grid(self.header_row):
            if line <= self.header_row or not any(v not in (None, "") for v in values):
                continue
            if len(values) > width and any(v not in (None, "") for v in values[width:]):
                yield line, _beyond_header(headers, values)
                continue
            yield line, dict(zip(headers, values, strict=False))


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
