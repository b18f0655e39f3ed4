"""How ``customers.xls`` was made: the old binary workbook (BIFF8, Excel 97–2003) that the
.xls import tests read.

No tool tricrm depends on writes that format, so the file is committed and this script
says what is in it. It was written once with ``xlwt`` 1.3.0 (installed only for this,
``pip install xlwt``; not a dependency of tricrm) by running
``python tests/data/legacy/make_customers_xls.py`` from the repository's root.

Sheet 客户: a blank first row, then the header (备注 merged over two columns, so the
second is unnamed), then rows with a code kept as text (00123), a code stored as the
number 456 under the format 00000 (Excel shows 00456), phones as numbers and as text, a
date and a date with a time, whole and fractional numbers, booleans, an #N/A error, an
18-digit number (Excel keeps 15 digits), a blank row, a bad phone, and a value in a
column with no header. Sheet 订单: two orders of those customers.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import xlwt  # type: ignore[import-not-found]

HERE = Path(__file__).resolve().parent


def main() -> None:
    wb = xlwt.Workbook(encoding="utf-8")
    date = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    moment = xlwt.easyxf(num_format_str="YYYY-MM-DD HH:MM")
    padded = xlwt.easyxf(num_format_str="00000")

    ws = wb.add_sheet("客户")
    headers = ["客户编号", "客户名称", "手机号码", "注册日期", "积分", "会员", "身份证号"]
    for col, name in enumerate(headers):
        ws.write(1, col, name)
    ws.write_merge(1, 1, 7, 8, "备注")

    ws.write(2, 0, "00123")
    ws.write(2, 1, "张三")
    ws.write(2, 2, 13812345678)
    ws.write(2, 3, dt.datetime(2023, 5, 1), date)
    ws.write(2, 4, 1500)
    ws.write(2, 5, True)
    ws.write(2, 6, 110101199001011234)
    ws.write(2, 7, "老客户")

    ws.write(3, 0, 456, padded)
    ws.write(3, 1, "李四")
    ws.write(3, 2, "139-1234-5678")
    ws.write(3, 3, dt.datetime(2023, 5, 1, 10, 30), moment)
    ws.write(3, 4, 1234.5)
    ws.write(3, 5, False)
    ws.row(3).set_cell_error(6, 0x2A)  # #N/A (xlwt knows it by its code only)
    ws.write(3, 7, "北京市")
    ws.write(3, 8, "朝阳区")

    # Row 5 is left blank.
    ws.write(5, 0, "C0789")
    ws.write(5, 1, "王五")
    ws.write(5, 2, 12345)
    ws.write(5, 3, dt.datetime(2024, 2, 29), date)

    ws.write(6, 0, "C0790")
    ws.write(6, 1, "赵六")
    ws.write(6, 2, 13912345678)
    ws.write(6, 9, "多余")

    orders = wb.add_sheet("订单")
    for col, name in enumerate(["订单编号", "客户编号", "下单日期", "金额"]):
        orders.write(0, col, name)
    orders.write(1, 0, "O1")
    orders.write(1, 1, "00123")
    orders.write(1, 2, dt.datetime(2024, 3, 1), date)
    orders.write(1, 3, 99.5)
    orders.write(2, 0, "O2")
    orders.write(2, 1, "00456")
    orders.write(2, 2, dt.datetime(2024, 3, 2), date)
    orders.write(2, 3, 1200)

    wb.save(str(HERE / "customers.xls"))


if __name__ == "__main__":
    main()
