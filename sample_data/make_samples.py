"""Write the small, deliberately messy sample files the README tour imports.

    python sample_data/make_samples.py

* ``customers_gbk.csv``: GBK-encoded (as exported by Excel on a Chinese Windows), Chinese
  headers, mixed date formats, phones written five different ways, and a few bad rows
  (no name, an impossible phone, a broken e-mail, a birthday in the future, a repeated
  customer code) that an import should reject or flag with the row number and the reason.
* ``orders.csv``: UTF-8 with a BOM, amounts like ``￥1,234.50`` and ``1234.5元``, dates like
  ``2023年5月1日``, ``2023/05/01`` and ``20230501``, and a few bad rows (unknown customer,
  negative amount, unreadable amount, no date).
* ``interactions.csv``: a call log as another CRM exports it (UTF-8), with a next-contact
  date in several forms (``3d`` after the call, ``2023/6/1``, ``2023年6月5日``) that becomes an
  open follow-up, and two bad rows (a follow-up task with no date, an unknown customer).

The rows are fixed text, so running the script again gives byte-identical files.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

HERE = Path(__file__).resolve().parent

CUSTOMER_HEADER = [
    "客户编号", "客户名称", "客户类型", "所属行业", "省份", "城市", "手机号码", "电子邮箱",
    "生日", "注册日期", "备注",
]  # fmt: skip

CUSTOMERS = [
    ["C1001", "张伟", "个人", "", "广东省", "广州市", "13800138000", "zhangwei@163.com", "1985-03-12", "2023-01-05", "老客户"],
    ["C1002", "李娜", "个人", "", "浙江省", "杭州市", "+86 139 1234 5678", "lina@qq.com", "1990/7/8", "2023/02/11", ""],
    ["C1003", "王芳", "个人", "", "北京市", "北京市", "138-0013-8001", "WangFang@Outlook.com ", "1978年11月2日", "2023年3月1日", "只在工作日联系"],
    ["C1004", "深圳华锐电子有限公司", "企业", "制造业", "广东省", "深圳市", "0755-26881234", "sales@huarui.com.cn", "", "20230315", "年采购额约 50 万"],
    ["C1005", "陳嘉儀", "个人", "", "广东省", "珠海市", "１３９２２３３４４５５", "kayee.chan@gmail.com", "1992-12-30", "2023-04-02", "繁体姓名"],
    ["C1006", "Emily Chen", "个人", "", "上海市", "上海市", "0086 186 2100 3344", "emily.chen@example.com", "1988-05-20", "2023-04-18", ""],
    ["C1007", "  刘洋 ", "个人", "", "四川省", "成都市", "15108236677", "liuyang@126.com", "1995-09-09", "2023-05-01", "名字前后有空格"],
    ["C1008", "杭州恒信网络科技有限公司", "公司", "互联网", "浙江省", "杭州市", "13357171234", "hr@hengxin.cn", "", "2023-05-20", "类型写成了“公司”"],
    ["C1009", "", "个人", "", "江苏省", "南京市", "13951234567", "noname@163.com", "1980-01-01", "2023-06-01", "缺少客户名称"],
    ["C1010", "赵磊", "个人", "", "山东省", "青岛市", "12345", "zhaolei@qq.com", "1987-02-14", "2023-06-15", "手机号无效"],
    ["C1011", "孙丽", "个人", "", "河南省", "郑州市", "13700371234", "sunli@", "1991-10-10", "2023-07-01", "邮箱不完整"],
    ["C1012", "周杰", "个人", "", "湖北省", "武汉市", "18627001234", "zhoujie@163.com", "2099-01-01", "2023-07-08", "生日在未来"],
    ["C1001", "张伟", "个人", "", "广东省", "广州市", "13800138000", "zhangwei@163.com", "1985-03-12", "2023-01-05", "重复的客户编号"],
    ["C1013", "欧阳娜娜", "个人", "", "福建省", "厦门市", "+8615959201234", "", "1999-04-04", "2023-08-08", ""],
    ["C1014", "成都天成餐饮管理有限公司", "企业", "餐饮", "四川省", "成都市", "028-85551234", "service@tiancheng.com.cn", "", "2023-09-01", ""],
]  # fmt: skip

ORDER_HEADER = ["订单编号", "客户编号", "下单日期", "订单金额", "数量", "商品名称", "商品类别", "渠道"]  # fmt: skip

ORDERS = [
    ["SO230501001", "C1001", "2023年5月1日", "￥1,234.50", "1", "西湖龙井（礼盒装）", "茶叶", "门店"],
    ["SO230502002", "C1002", "2023/05/02", "299", "2", "坚果礼盒（标准装）", "零食", "天猫"],
    ["SO230503003", "C1003", "20230503", "1234.5元", "1", "蚕丝被（标准装）", "床品", "京东"],
    ["SO230510004", "C1004", "2023-05-10", "¥12,800.00", "20", "激光打印机（标准装）", "办公设备", "官网"],
    ["SO230512005", "C1005", "2023.5.12", "RMB 88", "1", "保湿面霜（标准装）", "护肤", "微信小程序"],
    ["SO230601006", "C1001", "2023-06-01", "568.00", "1", "安溪铁观音（标准装）", "茶叶", "门店"],
    ["SO230618007", "C1006", "2023-06-18", "１,０９９.００", "1", "智能手表（标准装）", "智能设备", "京东"],
    ["SO230701008", "C9999", "2023-07-01", "100.00", "1", "笔记本（标准装）", "文具", "门店"],
    ["SO230702009", "C1007", "2023-07-02", "-50.00", "1", "洗发水（标准装）", "个护", "抖音"],
    ["SO230703010", "C1008", "2023-07-03", "一百元", "1", "文件收纳（标准装）", "文具", "官网"],
    ["SO230704011", "C1002", "", "199.00", "1", "防晒乳（标准装）", "护肤", "天猫"],
    ["SO231111012", "C1004", "2023年11月11日", "￥56,000", "100", "碎纸机（礼盒装）", "办公设备", "京东"],
]  # fmt: skip


INTERACTION_HEADER = ["记录编号", "客户编号", "渠道", "联系时间", "主题", "内容", "满意度", "下次跟进日期", "跟进事项"]  # fmt: skip

INTERACTIONS = [
    ["R0001", "C1001", "电话", "2023-05-20 10:30", "回访新茶", "对龙井满意，想要礼盒", "5", "3d", "寄送礼盒报价"],
    ["R0002", "C1004", "拜访", "2023/05/25 14:00", "年度采购洽谈", "打印机需求 20 台", "4", "2023/6/1", ""],
    ["R0003", "C1002", "微信", "2023-05-26 09:15", "售后咨询", "坚果礼盒漏发一袋", "2", "2023年6月5日", "确认补发"],
    ["R0004", "C1003", "邮件", "2023-05-27 16:40", "发票", "已开具", "", "", ""],
    ["R0005", "C1005", "电话", "2023-05-28 11:00", "新品推荐", "暂无需求", "3", "", "下月再联系"],
    ["R0006", "C9999", "电话", "2023-05-29 15:20", "陌生号码", "", "", "", ""],
]  # fmt: skip


def _csv(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # as Excel writes it
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def main() -> None:
    (HERE / "customers_gbk.csv").write_bytes(_csv(CUSTOMER_HEADER, CUSTOMERS).encode("gbk"))
    (HERE / "orders.csv").write_bytes(_csv(ORDER_HEADER, ORDERS).encode("utf-8-sig"))
    (HERE / "interactions.csv").write_bytes(
        _csv(INTERACTION_HEADER, INTERACTIONS).encode("utf-8")
    )


if __name__ == "__main__":
    main()
