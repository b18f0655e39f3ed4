"""Reference tables the demo generator draws from: names, places, industries, products.

Kept apart from :mod:`tricrm_tui.services.demo` so the generator reads as a procedure and
these lists can grow without touching it. Weights are rough shares, not statistics: they
make the demo look like a Chinese retail/B2B customer base (many 王/李/张, more customers in
广东 than in 西藏), which is what lists, filters and reports are tried on.
"""

from __future__ import annotations

# fmt: off

# Surname, pinyin, relative frequency (the most common surnames in mainland China, roughly in
# order; compound surnames at the end). Pinyin feeds the demo e-mail addresses.
SURNAMES: list[tuple[str, str, float]] = [
    ("王", "wang", 7.1), ("李", "li", 7.0), ("张", "zhang", 6.7), ("刘", "liu", 5.4),
    ("陈", "chen", 4.5), ("杨", "yang", 3.1), ("黄", "huang", 2.4), ("赵", "zhao", 2.3),
    ("吴", "wu", 2.0), ("周", "zhou", 1.9), ("徐", "xu", 1.3), ("孙", "sun", 1.2),
    ("马", "ma", 1.2), ("朱", "zhu", 1.1), ("胡", "hu", 1.0), ("郭", "guo", 1.0),
    ("何", "he", 0.9), ("林", "lin", 0.9), ("高", "gao", 0.9), ("罗", "luo", 0.8),
    ("郑", "zheng", 0.8), ("梁", "liang", 0.7), ("谢", "xie", 0.6), ("宋", "song", 0.6),
    ("唐", "tang", 0.6), ("许", "xu", 0.5), ("韩", "han", 0.5), ("冯", "feng", 0.5),
    ("邓", "deng", 0.5), ("曹", "cao", 0.5), ("彭", "peng", 0.5), ("曾", "zeng", 0.4),
    ("肖", "xiao", 0.4), ("田", "tian", 0.4), ("董", "dong", 0.4), ("袁", "yuan", 0.4),
    ("潘", "pan", 0.4), ("于", "yu", 0.4), ("蒋", "jiang", 0.4), ("蔡", "cai", 0.4),
    ("余", "yu", 0.3), ("杜", "du", 0.3), ("叶", "ye", 0.3), ("程", "cheng", 0.3),
    ("苏", "su", 0.3), ("魏", "wei", 0.3), ("吕", "lv", 0.3), ("丁", "ding", 0.3),
    ("任", "ren", 0.3), ("沈", "shen", 0.3), ("姚", "yao", 0.3), ("卢", "lu", 0.3),
    ("姜", "jiang", 0.3), ("崔", "cui", 0.3), ("钟", "zhong", 0.3), ("谭", "tan", 0.3),
    ("陆", "lu", 0.2), ("汪", "wang", 0.2), ("范", "fan", 0.2), ("金", "jin", 0.2),
    ("石", "shi", 0.2), ("廖", "liao", 0.2), ("贾", "jia", 0.2), ("夏", "xia", 0.2),
    ("韦", "wei", 0.2), ("方", "fang", 0.2), ("白", "bai", 0.2), ("邹", "zou", 0.2),
    ("孟", "meng", 0.2), ("熊", "xiong", 0.2), ("秦", "qin", 0.2), ("邱", "qiu", 0.2),
    ("江", "jiang", 0.2), ("尹", "yin", 0.2), ("薛", "xue", 0.2), ("段", "duan", 0.1),
    ("雷", "lei", 0.1), ("侯", "hou", 0.1), ("龙", "long", 0.1), ("史", "shi", 0.1),
    ("欧阳", "ouyang", 0.05), ("司马", "sima", 0.02), ("上官", "shangguan", 0.02),
    ("诸葛", "zhuge", 0.01),
]

# Characters common in given names, with pinyin. Names take one or two of them.
GIVEN_CHARS: list[tuple[str, str]] = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"),
    ("丽", "li"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"),
    ("勇", "yong"), ("艳", "yan"), ("杰", "jie"), ("娟", "juan"), ("涛", "tao"),
    ("明", "ming"), ("超", "chao"), ("秀", "xiu"), ("霞", "xia"), ("平", "ping"),
    ("刚", "gang"), ("桂", "gui"), ("英", "ying"), ("华", "hua"), ("建", "jian"),
    ("国", "guo"), ("文", "wen"), ("辉", "hui"), ("玲", "ling"), ("婷", "ting"),
    ("雪", "xue"), ("晨", "chen"), ("宇", "yu"), ("浩", "hao"), ("然", "ran"),
    ("欣", "xin"), ("怡", "yi"), ("子", "zi"), ("涵", "han"), ("梓", "zi"),
    ("萱", "xuan"), ("博", "bo"), ("轩", "xuan"), ("思", "si"), ("佳", "jia"),
    ("嘉", "jia"), ("俊", "jun"), ("凯", "kai"), ("鹏", "peng"), ("飞", "fei"),
    ("慧", "hui"), ("琳", "lin"), ("晓", "xiao"), ("东", "dong"), ("海", "hai"),
    ("波", "bo"), ("斌", "bin"), ("宁", "ning"), ("红", "hong"), ("春", "chun"),
    ("志", "zhi"), ("永", "yong"), ("家", "jia"), ("诗", "shi"), ("雨", "yu"),
]

# Traditional-character names (Hong Kong / Taiwan customers): surname, given name, pinyin.
TRADITIONAL_SURNAMES: list[tuple[str, str]] = [
    ("陳", "chen"), ("黃", "huang"), ("張", "zhang"), ("劉", "liu"), ("林", "lin"),
    ("吳", "wu"), ("鄭", "zheng"), ("楊", "yang"), ("謝", "xie"), ("許", "xu"),
]
TRADITIONAL_GIVEN: list[tuple[str, str]] = [
    ("偉", "wei"), ("華", "hua"), ("國", "guo"), ("嘉", "jia"), ("儀", "yi"),
    ("傑", "jie"), ("麗", "li"), ("達", "da"), ("榮", "rong"), ("穎", "ying"),
    ("豪", "hao"), ("雯", "wen"), ("瑋", "wei"), ("凱", "kai"), ("婷", "ting"),
]

LATIN_FIRST = [
    "Emily", "David", "Anna", "Michael", "Sophie", "James", "Laura", "Daniel", "Olivia",
    "Thomas", "Julia", "Kevin", "Grace", "Lucas", "Chloe", "Peter", "Hannah", "Mark",
]
LATIN_LAST = [
    "Chen", "Wang", "Smith", "Müller", "Johnson", "Lee", "Brown", "Garcia", "Martin",
    "Nguyen", "Kim", "Rossi", "Dubois", "Schmidt", "Tanaka", "Wong", "Lam", "Ng",
]

# Enterprise names: a brand word and a line of business, with the usual suffix.
BRAND_WORDS: list[tuple[str, str]] = [
    ("恒信", "hengxin"), ("华锐", "huarui"), ("鼎盛", "dingsheng"), ("中联", "zhonglian"),
    ("瑞丰", "ruifeng"), ("天成", "tiancheng"), ("宏远", "hongyuan"), ("汇通", "huitong"),
    ("博雅", "boya"), ("星辰", "xingchen"), ("金桥", "jinqiao"), ("新纪元", "xinjiyuan"),
    ("东方", "dongfang"), ("卓越", "zhuoyue"), ("盛世", "shengshi"), ("启明", "qiming"),
    ("云帆", "yunfan"), ("海纳", "haina"), ("长青", "changqing"), ("万通", "wantong"),
]
LATIN_COMPANIES = [
    "Acme Trading Co., Ltd.", "Bluewave Logistics Ltd.", "Northstar Foods Co., Ltd.",
    "Pacific Rim Consulting", "Greenleaf Health Ltd.", "Orient Bridge Imports",
]

# Industry, business words used in company names, share of enterprises.
INDUSTRIES: list[tuple[str, str, float]] = [
    ("制造业", "机械制造", 0.16), ("零售", "商贸", 0.14), ("互联网", "网络科技", 0.12),
    ("金融", "投资管理", 0.06), ("教育", "教育科技", 0.07), ("医疗健康", "医疗器械", 0.07),
    ("餐饮", "餐饮管理", 0.08), ("物流", "物流", 0.07), ("房地产", "置业", 0.05),
    ("能源", "新能源", 0.05), ("农业", "农业科技", 0.05), ("文化传媒", "文化传媒", 0.08),
]
SIZE_BANDS: list[tuple[str, float]] = [
    ("1-9", 0.35), ("10-49", 0.30), ("50-249", 0.20), ("250-999", 0.10), ("1000+", 0.05),
]

# Province → cities (first city is the capital or the largest), and a rough share of customers.
PROVINCES: list[tuple[str, float, list[str]]] = [
    ("广东省", 9.0, ["广州市", "深圳市", "东莞市", "佛山市", "珠海市", "汕头市", "惠州市"]),
    ("山东省", 6.5, ["济南市", "青岛市", "烟台市", "潍坊市", "临沂市"]),
    ("河南省", 6.0, ["郑州市", "洛阳市", "南阳市", "新乡市"]),
    ("江苏省", 6.0, ["南京市", "苏州市", "无锡市", "常州市", "南通市", "徐州市"]),
    ("四川省", 5.5, ["成都市", "绵阳市", "德阳市", "宜宾市"]),
    ("河北省", 5.0, ["石家庄市", "唐山市", "保定市", "廊坊市"]),
    ("湖南省", 4.5, ["长沙市", "株洲市", "湘潭市", "岳阳市"]),
    ("浙江省", 5.0, ["杭州市", "宁波市", "温州市", "绍兴市", "嘉兴市", "金华市"]),
    ("安徽省", 4.0, ["合肥市", "芜湖市", "蚌埠市"]),
    ("湖北省", 4.0, ["武汉市", "宜昌市", "襄阳市"]),
    ("广西壮族自治区", 3.5, ["南宁市", "柳州市", "桂林市"]),
    ("云南省", 3.0, ["昆明市", "大理白族自治州", "曲靖市"]),
    ("江西省", 3.0, ["南昌市", "赣州市", "九江市"]),
    ("辽宁省", 3.0, ["沈阳市", "大连市", "鞍山市"]),
    ("福建省", 3.0, ["福州市", "厦门市", "泉州市"]),
    ("陕西省", 2.8, ["西安市", "咸阳市", "宝鸡市"]),
    ("贵州省", 2.5, ["贵阳市", "遵义市"]),
    ("山西省", 2.5, ["太原市", "大同市"]),
    ("重庆市", 2.3, ["重庆市"]),
    ("黑龙江省", 2.2, ["哈尔滨市", "大庆市", "齐齐哈尔市"]),
    ("新疆维吾尔自治区", 1.8, ["乌鲁木齐市", "克拉玛依市"]),
    ("上海市", 2.8, ["上海市"]),
    ("北京市", 2.6, ["北京市"]),
    ("内蒙古自治区", 1.7, ["呼和浩特市", "包头市"]),
    ("吉林省", 1.7, ["长春市", "吉林市"]),
    ("甘肃省", 1.7, ["兰州市", "天水市"]),
    ("天津市", 1.6, ["天津市"]),
    ("海南省", 0.7, ["海口市", "三亚市"]),
    ("宁夏回族自治区", 0.5, ["银川市"]),
    ("青海省", 0.4, ["西宁市"]),
    ("西藏自治区", 0.2, ["拉萨市"]),
]
ROADS = ["人民路", "解放路", "中山路", "建设路", "和平路", "长江路", "新华路", "学府路", "科技路"]

# Mobile prefixes of China Mobile, China Unicom and China Telecom (all pass phonenumbers
# as MOBILE for every subscriber number; 149 is a data-only range and left out).
MOBILE_PREFIXES = [
    "134", "135", "136", "137", "138", "139", "147", "150", "151", "152", "157", "158",
    "159", "172", "178", "182", "183", "184", "187", "188", "198", "130", "131", "132",
    "145", "155", "156", "166", "175", "176", "185", "186", "133", "153", "173",
    "177", "180", "181", "189", "191", "199",
]
EMAIL_DOMAINS = ["qq.com", "163.com", "126.com", "gmail.com", "outlook.com", "sina.com", "foxmail.com"]

SOURCE_CHANNELS: list[tuple[str, float]] = [
    ("门店", 0.22), ("官网", 0.12), ("微信小程序", 0.2), ("天猫", 0.14), ("京东", 0.1),
    ("抖音", 0.08), ("转介绍", 0.07), ("展会", 0.04), ("电话营销", 0.03),
]
ORDER_CHANNELS: list[tuple[str, float]] = [
    ("门店", 0.3), ("微信小程序", 0.25), ("天猫", 0.18), ("京东", 0.14), ("官网", 0.08),
    ("抖音", 0.05),
]
OWNERS = ["li.na", "wang.wei", "zhang.min", "chen.jie", "liu.yang", "zhao.lei"]
CUSTOMER_TAGS = ["VIP", "大客户", "价格敏感", "新品尝鲜", "企业采购", "节日礼品", "线上活跃", "需回访"]

# Categories: (parent, [(child, price range in yuan)]); products are named from the child.
CATEGORIES: list[tuple[str, list[tuple[str, int, int, list[str]]]]] = [
    ("食品饮料", [
        ("茶叶", 68, 880, ["西湖龙井", "安溪铁观音", "云南普洱", "武夷岩茶", "祁门红茶"]),
        ("零食", 15, 128, ["坚果礼盒", "牛肉干", "芒果干", "手工饼干"]),
    ]),
    ("家居生活", [
        ("厨具", 49, 1299, ["不粘炒锅", "电饭煲", "刀具套装", "破壁机"]),
        ("床品", 99, 1599, ["蚕丝被", "乳胶枕", "四件套"]),
    ]),
    ("数码电器", [
        ("手机配件", 29, 399, ["快充充电器", "无线耳机", "移动电源", "手机壳"]),
        ("智能设备", 199, 2999, ["智能手表", "扫地机器人", "智能音箱"]),
    ]),
    ("美妆个护", [
        ("护肤", 89, 1280, ["保湿面霜", "精华液", "防晒乳", "洁面乳"]),
        ("个护", 19, 299, ["电动牙刷", "洗发水", "沐浴露"]),
    ]),
    ("办公用品", [
        ("文具", 5, 199, ["钢笔礼盒", "笔记本", "文件收纳"]),
        ("办公设备", 299, 4999, ["激光打印机", "碎纸机", "投影仪"]),
    ]),
]

INTERACTION_SUBJECTS = {
    "phone": ["电话回访", "订单咨询", "售后跟进", "新品推荐"],
    "email": ["会员权益说明", "订单确认", "活动邀请", "报价单"],
    "wechat": ["微信咨询", "优惠券发放", "物流查询", "使用指导"],
    "sms": ["生日祝福", "活动通知", "发货提醒"],
    "chat": ["在线客服咨询", "退换货咨询"],
    "visit": ["上门拜访", "门店到访", "产品演示"],
}
INTERACTION_OUTCOMES = ["已解决", "需跟进", "客户满意", "无人接听", "已报价", "已下单"]
FOLLOWUP_REASONS = ["回访满意度", "跟进报价", "生日关怀", "续购提醒", "投诉处理回访", "新品推荐"]
COMPLAINT_CATEGORIES = ["物流延迟", "产品质量", "服务态度", "价格争议", "售后维修"]
COMPLAINT_COMMENTS = {
    "物流延迟": "快递一周还没到，客服也没有回复。",
    "产品质量": "收到的商品有破损，要求换货。",
    "服务态度": "门店店员态度冷淡，体验很差。",
    "价格争议": "刚买就降价了，希望补差价。",
    "售后维修": "保修期内维修等了很久。",
}
SURVEY_COMMENTS = ["很满意，会再来", "物流很快", "包装精美", "一般般", "价格有点高", "客服很耐心"]

MEMBER_LEVELS: list[tuple[str, int, int, int, str]] = [
    # name, rank, min points, min spend (yuan), points multiplier
    ("普通", 1, 0, 0, "1.00"),
    ("银卡", 2, 2000, 2000, "1.20"),
    ("金卡", 3, 8000, 8000, "1.50"),
    ("钻石", 4, 30000, 30000, "2.00"),
]

JOURNEY_NAME = "Purchase journey"
JOURNEY_STAGES = ["awareness", "consideration", "purchase", "retention", "advocacy"]
# Touchpoints: name, stage position (0-based), channel.
TOUCHPOINTS: list[tuple[str, int, str]] = [
    ("抖音广告", 0, "social"),
    ("朋友推荐", 0, "other"),
    ("官网浏览", 1, "other"),
    ("门店体验", 1, "visit"),
    ("客服咨询", 1, "chat"),
    ("下单支付", 2, "other"),
    ("售后回访", 3, "phone"),
    ("会员活动", 3, "wechat"),
    ("推荐好友", 4, "wechat"),
    ("晒单评价", 4, "social"),
]

SEGMENTS: list[tuple[str, str, str]] = [
    ("广东老客户", "province:广东省 orders>=3", "广东省下单 3 次以上的客户"),
    ("高价值客户", "spent>=10000", "累计消费满一万元"),
    ("沉睡客户", "orders>=2 last_order>180d", "半年未下单的回头客"),
    ("企业客户", "kind:enterprise", "所有企业客户"),
    ("VIP", "tag:VIP", "打了 VIP 标签的客户"),
]
COMMUNICATION_PLANS: list[tuple[str, str, str, int, str, int | None, int | None]] = [
    # name, target kind, target value, cadence days, channel, cap count, cap period days.
    # Kinds as services/targets.py reads them: a customer column (level, tier, segment,
    # lifecycle) or a filter-language expression; the demo targets what it fills itself.
    ("钻石会员月度关怀", "level", "钻石", 30, "phone", 2, 30),
    ("新客首月回访", "filter", "registered<1m", 14, "wechat", 3, 30),
    ("沉睡客户唤醒", "filter", "orders>=2 last_order>180d", 60, "sms", 1, 30),
    ("企业客户季度拜访", "filter", "kind:enterprise", 90, "visit", None, None),
]
CARE_RULES: list[tuple[str, str, str | None, int, str, str]] = [
    ("生日关怀", "birthday", None, 3, "sms", "生日快乐！送您一张 50 元优惠券。"),
    ("春节问候", "lunar", "spring_festival", 7, "wechat", "新春快乐，万事如意！"),
]
# fmt: on
