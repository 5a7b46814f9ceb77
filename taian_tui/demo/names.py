"""The demo city's name pools and text: people's and enterprises' names, credit codes,
phones, industries, roads, and the words of appeals, replies, evaluations, orders,
content and instructions. Deterministic given the ``random.Random`` passed in.
"""
from __future__ import annotations

import datetime as _dt
import random
from typing import Any

from stdnum.cn import uscc as _uscc



# Rule combos deliberately left out, so that some appeals wait in the dispatch queue.
UNROUTED = (("other", "泰山景区"), ("other", "徂汶景区"), ("other", "泰安旅游经济开发区"),
            ("energy", "泰山景区"))


# administrative division codes for the credit codes (zones register at city level)
DIVISION = {"泰山区": "370902", "岱岳区": "370911", "新泰市": "370982", "肥城市": "370983",
            "宁阳县": "370921", "东平县": "370923"}


ZONE_DIVISION = "370900"


# enterprises per county/zone (sums to 1,428)
COUNTY_WEIGHTS = {"泰山区": 200, "岱岳区": 240, "新泰市": 230, "肥城市": 220, "宁阳县": 150,
                  "东平县": 140, "泰安高新技术产业开发区": 150, "泰山景区": 20,
                  "泰安旅游经济开发区": 40, "徂汶景区": 38}


# ---------------------------------------------------------------------------------------
# name and text pools
# ---------------------------------------------------------------------------------------
SURNAMES = ("王王王李李李张张张刘刘刘陈杨杨赵赵孙孙徐马马高高于于孔周吴郑胡朱林何郭罗梁宋谢韩"
            "唐冯董程曹袁许沈彭吕苏蒋蔡魏薛田姜范石姚崔毛秦侯邵孟段尹乔贾丁亓牛宁翟")


GIVEN_1 = "建志国文明海晓立红新德振玉春秀丽静敏伟军磊涛鹏飞杰婷雪慧宏亮永庆长云金兆学俊凤桂秋兰华成峰佳欣子"


GIVEN_2 = "国强华明军平东林峰波涛杰斌辉刚勇敏静丽娟燕霞萍芳红梅艳玲慧婷雪琳宁超鹏飞龙亮伟磊鑫琦然阳"


BRAND_CHARS = "泰恒瑞鑫华德宏盛源达丰兴昌隆信诚和佳嘉安康泽润博鼎铭远航峰岳汶岱鲁海天金宇辰凯晟骏祥福祺聚力合众联"


INDUSTRIES = {
    # industry: (company-name suffixes, project phrases)
    "新材料": (("新材料科技有限公司", "复合材料有限公司", "玻纤制品有限公司", "新材料股份有限公司"),
            ("年产{n}万吨高性能玻璃纤维生产线项目", "碳纤维复合材料产业化项目", "高端石膏基新材料产业园项目",
             "{n}万吨/年新型功能材料项目")),
    "高端装备": (("机械制造有限公司", "智能装备有限公司", "重工机械有限公司", "装备科技股份有限公司"),
             ("智能制造产业园一期项目", "高端矿山装备智能工厂项目", "年产{n}台（套）智能输送装备项目",
              "数字化车间技术改造项目")),
    "新一代信息技术": (("信息科技有限公司", "电子科技有限公司", "数据科技有限公司"),
                ("数字经济产业园项目", "工业互联网平台建设项目", "大数据中心（一期）项目", "智能传感器研发生产项目")),
    "生物医药": (("生物科技有限公司", "医药有限公司", "药业股份有限公司"),
             ("生物医药产业园项目", "原料药绿色生产基地项目", "医疗器械研发生产项目", "中药饮片智能化生产线项目")),
    "新能源": (("新能源科技有限公司", "光伏科技有限公司", "储能科技有限公司"),
            ("{n}MW农光互补光伏发电项目", "新型储能电站项目", "新能源储能电池研发生产基地项目", "分布式光伏整县推进项目")),
    "现代化工": (("化工有限公司", "精细化工有限公司", "化工科技股份有限公司"),
             ("{n}万吨/年精细化学品项目", "化工园区循环化改造项目", "盐化工产业链延伸项目")),
    "纺织服装": (("纺织有限公司", "服饰有限公司", "纺织科技有限公司"),
             ("高档面料智能纺纱项目", "年产{n}万米功能性面料项目", "纺织数字化改造项目")),
    "食品加工": (("食品有限公司", "食品科技有限公司", "粮油有限公司"),
             ("中央厨房及冷链配送项目", "年产{n}万吨绿色食品加工项目", "预制菜产业园项目")),
    "现代农业": (("农业发展有限公司", "种业有限公司", "农业科技有限公司"),
             ("智慧农业示范园项目", "现代种业育繁推一体化项目", "{n}亩高标准设施农业项目")),
    "建材": (("建材有限公司", "新型建材有限公司", "水泥有限公司"),
           ("装配式建筑部品部件生产基地项目", "绿色建材产业园项目", "年产{n}万立方米加气砌块项目")),
    "文化旅游": (("文化旅游发展有限公司", "文旅产业有限公司", "旅游开发有限公司"),
             ("泰山文旅综合体项目", "研学旅游基地建设项目", "乡村旅游度假区项目", "夜间文旅消费集聚区项目")),
    "现代物流": (("物流有限公司", "供应链管理有限公司", "国际物流有限公司"),
             ("冷链物流中心建设项目", "公铁联运物流园项目", "智慧仓储配送中心项目")),
    "汽车及零部件": (("汽车零部件有限公司", "车桥有限公司", "专用汽车有限公司"),
               ("新能源汽车零部件项目", "年产{n}万套汽车制动系统项目", "专用车智能生产线项目")),
    "输变电设备": (("输变电设备有限公司", "电气有限公司", "电力科技有限公司"),
              ("特高压输变电设备产业化项目", "智能电网设备研发生产项目", "{n}万千伏安变压器扩产项目")),
}


INDUSTRY_WEIGHTS = {"新材料": 12, "高端装备": 14, "新一代信息技术": 7, "生物医药": 6, "新能源": 8,
                    "现代化工": 7, "纺织服装": 7, "食品加工": 8, "现代农业": 6, "建材": 6,
                    "文化旅游": 6, "现代物流": 6, "汽车及零部件": 6, "输变电设备": 6}


TAGS = ("规上工业企业", "双50强", "省瞪羚企业", "四上企业")


NAME_PREFIX = {"泰山区": ("泰安", "泰安市", "山东泰山"), "岱岳区": ("泰安", "泰安市", "山东"),
               "新泰市": ("新泰市", "新泰", "山东"), "肥城市": ("肥城", "肥城市", "山东"),
               "宁阳县": ("宁阳县", "宁阳", "山东"), "东平县": ("东平县", "东平", "山东"),
               "泰安高新技术产业开发区": ("泰安", "山东", "泰安高新区"), "泰山景区": ("泰安", "泰山"),
               "泰安旅游经济开发区": ("泰安", "山东"), "徂汶景区": ("泰安", "新泰")}


ROADS = {"泰山区": ("东岳大街", "泰山大街", "岱宗大街", "青年路", "灵山大街", "迎胜东路", "温泉路"),
         "岱岳区": ("长城路", "擂鼓石大街", "南天门大街", "望岳西路", "粥店街道天平湖路", "满庄镇工业园路"),
         "新泰市": ("青云路", "府前大街", "平阳路", "新汶大街", "经济开发区东周路", "翟镇工业路"),
         "肥城市": ("新城路", "龙山路", "向阳街", "高新区孔子大道", "石横镇工业大道", "仪阳街道站前街"),
         "宁阳县": ("七贤路", "文庙街", "建设路", "化工产业园复圣大道", "磁窑镇工业路"),
         "东平县": ("东山路", "佛山街", "东原路", "经济开发区白佛山路", "州城街道滨湖路"),
         "泰安高新技术产业开发区": ("中天门大街", "北天门大街", "南天门大街", "天烛峰路", "凤天路"),
         "泰山景区": ("红门路", "环山路", "天外村路"),
         "泰安旅游经济开发区": ("天颐湖路", "泰山温泉城大道", "黄前镇迎宾路"),
         "徂汶景区": ("楼德镇工业路", "徂徕山大道", "天宝镇驻地路")}


DISPATCH_OTHER = ("wlj", "tcj", "swuj")


ALT_UNITS = {"approval": ("xzsp", "fgw", "gxj"), "planning": ("zrzy", "zjj", "xzsp"),
             "land": ("zrzy", "lyj", "nyj"), "energy": ("fgw", "gxj", "gdgs"),
             "environment": ("sthj", "swj", "xzsp"),
             "infrastructure": ("zjj", "swj", "gdgs", "jtj", "rqgs", "sjt", "txgl", "cgj"),
             "other": ("swuj", "tcj", "rsj", "scj", "czj", "kjj", "yshj", "jrj", "swuju")}


TWO_LIAISONS = {"fgw", "gxj", "zrzy", "sthj", "zjj", "xzsp", "swj", "jtj", "gdgs"}


APPEAL_TEXT = {
    "approval": (
        ("{subject}立项备案迟迟未办结", "{subject}项目核准批复进度咨询", "{subject}备案信息变更受阻",
         "{subject}节能审查与立项能否并联办理", "{subject}可研报告审查意见何时出具"),
        "我公司投资建设的{subject}，计划总投资{inv}万元，已于{month}通过山东省投资项目在线审批监管平台"
        "提交备案（核准）申请，目前系统显示“待受理”已超过{n}个工作日。项目已完成前期选址和资金筹措，"
        "急需取得备案证明以办理后续规划、施工许可手续。\n恳请相关部门协调加快办理，并告知还需补充哪些材料。"),
    "planning": (
        ("{subject}规划条件一直未出具", "{subject}建设工程规划许可证办理缓慢", "{subject}总平面图调整审批咨询",
         "{subject}容积率指标与招商约定不符", "{subject}规划方案多次修改仍未通过"),
        "{subject}用地已于{month}完成摘牌，按照招商协议约定容积率不低于{ratio}。但目前出具的规划条件"
        "与约定不一致，导致设计方案需要调整，已延误工期约{n}天。\n请自然资源和规划部门会同园区核实情况，"
        "尽快明确规划指标，出具规划许可。"),
    "land": (
        ("{subject}用地指标尚未落实", "{subject}土地征收补偿迟迟未完成", "{subject}不动产权证书办理受阻",
         "{subject}新增建设用地报批进度咨询", "{subject}租赁集体土地手续如何完善"),
        "我公司{subject}规划用地约{area}亩，其中{part}亩新增建设用地指标至今未落实，"
        "地上附着物清表工作也未完成，设备无法进场。项目已纳入{level}，\n"
        "请协调解决用地指标和征地补偿问题，明确供地时间表。"),
    "energy": (
        ("{subject}能耗指标缺口较大", "{subject}节能审查意见迟迟未批复", "{subject}用能权交易如何办理",
         "{subject}煤炭消费减量替代方案咨询", "{subject}新增用电负荷报装缓慢"),
        "{subject}达产后年综合能耗约{energy}吨标准煤，目前仅落实能耗指标{part}吨标准煤，"
        "缺口较大，节能审查无法通过，影响项目按期开工。\n恳请发展改革部门帮助统筹调剂能耗指标，"
        "或指导企业通过用能权交易解决。"),
    "environment": (
        ("{subject}环评批复进度咨询", "{subject}排污许可证申领遇到困难", "{subject}主要污染物总量指标未落实",
         "{subject}环评审批与园区规划环评衔接问题", "{subject}危废处置渠道不畅"),
        "我公司{subject}环境影响报告书已于{month}报送审批，专家评审后已按意见修改完善，"
        "但因区域主要污染物总量指标未落实，批复一直未能出具，已影响施工许可办理。\n"
        "请生态环境部门协调总量指标来源，加快环评审批。"),
    "infrastructure": (
        ("{subject}{facility}未按期配套", "{subject}{facility}接入迟缓", "{subject}园区{facility}迟迟未接通",
         "{subject}{facility}接入费用过高", "{subject}{facility}建设进度滞后"),
        "{subject}厂房主体已基本完工，计划{month}投入试生产，但园区配套的{facility}至今未接通，"
        "直接影响设备调试和投产时间。前期已多次与相关单位沟通，答复均为“正在推进”。\n"
        "请协调有关部门和单位明确完工时间，保障项目按期投产。"),
    "other": (
        ("{subject}技术工人招聘困难", "{subject}流动资金贷款需求", "{subject}惠企政策资金兑现咨询",
         "{subject}出口退税办理周期较长", "{subject}高层次人才落户和子女入学问题", "{subject}物流运输成本偏高"),
        "{subject}目前生产经营正常，订单较为饱满，但{issue}。企业已向有关部门咨询，"
        "尚未得到明确答复。\n希望政府帮助协调解决，支持企业稳定生产、扩大投资。"),
}


FACILITIES = ("厂区外道路", "10千伏供电专线", "污水管网", "天然气管道", "供水管网", "通信光缆", "雨水排放管道")


OTHER_ISSUES = ("技术工人缺口约{n}人，招聘困难", "流动资金紧张，申请的{n}00万元贷款尚未获批",
                "去年申报的技改奖补资金至今未兑现", "出口退税办理周期较长，资金占用较大",
                "引进的博士人才落户和子女入学手续推进缓慢")


REPLIES = {
    "approval": ("经核查，贵公司{subject}备案材料已补正完整，我局已于{done}完成备案并出具项目代码，"
                 "请登录在线审批平台下载备案证明。后续规划、施工许可可同步申报，我局将安排专人帮办代办。",
                 "贵公司反映的{subject}核准问题，经与省发展改革委对接，核准所需的节能审查、用地预审意见已齐备，"
                 "预计{n}个工作日内出具批复，请保持联系。"),
    "planning": ("经会同属地园区核实，{subject}规划条件已按招商协议重新出具，容积率等指标已调整，"
                 "建设工程规划许可可于方案审查后当日办结。联系人：{name}，电话{phone}。",
                 "关于{subject}总平面图调整事项，我局已组织专家论证，同意调整方案，请按审查意见修改后提交。"),
    "land": ("贵公司反映的{subject}用地问题，我局已会同属地自然资源所现场踏勘，新增建设用地报批材料已于{done}"
             "报省自然资源厅审查，预计{n}个工作日内取得批复，清表工作由属地政府负责，已明确完成时限。",
             "{subject}不动产权证书所需材料已齐备，已开通绿色通道，{date}可到不动产登记中心领取证书。"),
    "energy": ("经研究，{subject}能耗指标缺口已通过市级统筹调剂解决，节能审查意见将于{date}前出具。",
               "已指导企业通过用能权交易平台购买所需用能指标，并安排专人全程帮办，预计{n}个工作日内完成。"),
    "environment": ("经核实，{subject}所需主要污染物总量指标已通过区域削减替代落实，环评批复已于{done}出具。",
                    "我局已安排专人指导企业申领排污许可证，材料齐全后{n}个工作日内核发。"),
    "infrastructure": ("经协调，{subject}配套的{facility}已纳入今年重点工程，施工单位已进场，预计{date}前接通。",
                       "已协调相关单位现场办公，{facility}接入方案已确定，费用按最新收费标准执行，"
                       "{n}个工作日内完成施工。"),
    "other": ("已将贵公司需求纳入“金融辅导员”对接清单，合作银行已完成授信审查，预计{date}前放款。",
              "我局已安排专场招聘会并推送技能人才信息，同时兑现政策资金{n}0万元，已拨付到企业账户。"),
}


RETURN_REASONS = ("经研究，该诉求主要涉及{alt}职责，不属于我单位办理范围，建议转{alt}办理。",
                  "该事项由{alt}负责，我单位无法答复，请平台改派{alt}。")


EVAL_COMMENTS = {"满意": ("答复及时，问题已解决，感谢！", "部门主动对接，办理效率高。", "", "服务很到位。"),
                 "基本满意": ("问题部分解决，后续还需继续跟进。", "答复较为及时，但落实还需时间。", ""),
                 "不满意": ("答复内容与实际问题不符，问题仍未解决。", "只是解释政策，没有提出具体解决办法。",
                          "答复的完成时间已过，现场仍无进展。")}


DISPUTE_AT_FAULT = ("经核查，承办单位答复未解决企业实际问题，责令重新办理并报送办理结果。",
                    "承办单位答复与企业诉求不对应，督办重新办理。")


DISPUTE_NOT_AT_FAULT = ("经核查，承办单位已依法依规答复，企业诉求超出现行政策范围，予以办结。",
                        "承办单位答复符合政策规定，已向企业做好解释，予以办结。")


EXTENSION_REASONS = ("该事项需报省级部门审批，申请延期{days}个工作日。",
                     "需组织多部门现场会商，申请延期{days}个工作日。",
                     "涉及用地指标调剂，需市政府研究，申请延期{days}个工作日。")


ORDER_NOTES = ("市领导高度关注，请于期限内办结并报告办理结果。", "企业多次反映，督查室挂牌督办。")


MARKUP_APPEALS = (   # markup-like and control text, to exercise safe display
    ("infrastructure", "[red]紧急[/red]：厂区外供电线路迁改严重滞后",
     "设备已到货，[b]线路迁改[/b]仍无进展。\x07请尽快协调！⚡"),
    ("land", "[bold]加急[/bold] 土地证办理[/b]卡在公示环节", "公示期满已{n}天，证书仍未发放[/]，影响融资。"),
    ("infrastructure", "🚧 项目配套道路施工暂停，影响设备进场",
     "道路施工方撤场，原因不明。🙏 请帮助协调。\r\n联系人见企业信息。"),
    ("planning", "规划许可证\x1b[31m变更\x1b[0m申请无人受理", "提交变更申请后系统无反馈\x1b[2J，电话也无人接听。"),
    ("environment", "环评批复进度 [link=http://example.com]查看[/link]", "[i]环评[/i]报告已修改三次，请告知具体问题。😟"),
    ("energy", "能耗指标 [/red][yellow]缺口[/yellow] 问题", "缺口约{n}00吨标准煤\t请统筹解决。"),
)


CONTENT_TOPICS = ("支持民营经济高质量发展", "促进先进制造业和数字经济深度融合", "加快新旧动能转换重大项目建设",
                  "持续优化营商环境", "降低企业用能成本", "支持中小微企业融资", "推动绿色低碳转型",
                  "鼓励企业技术改造", "引进高层次人才", "促进外贸稳规模优结构", "支持专精特新企业培育",
                  "加强重点项目要素保障", "推进工业园区提质增效", "推动文旅产业融合发展", "扩大有效投资",
                  "推进工业互联网创新发展", "加快发展现代物流", "支持企业上市挂牌", "促进消费提质扩容")


CONTENT_TAGS = ("惠企", "制造业", "资金扶持", "要素保障", "营商环境", "招商引资", "重点项目", "数字经济",
                "绿色低碳", "人才", "融资", "外贸", "文旅", "专精特新", "技术改造")


PROVINCE_DEPTS = ("发展和改革委员会", "工业和信息化厅", "自然资源厅", "生态环境厅", "商务厅", "财政厅")


DEPT_THEMES = ("项目服务月", "要素保障攻坚", "企业大走访", "审批提速", "一线工作法", "服务企业专员")


INSTRUCTION_TEXTS = (
    "请{unit}高度重视，主要负责同志亲自调度，{n}个工作日内拿出解决方案并报告。",
    "该事项企业反映强烈，请抓紧协调解决，办理结果及时报我。",
    "请会同相关部门现场办公，限期解决，不得推诿。",
    "此项目是全市重点项目，请加快要素保障，确保按期开工。",
    "请深入研究，依法依规妥善处理，并做好企业解释工作。",
)


INSTRUCTION_REPLIES = ("已召开专题调度会，明确责任分工和完成时限，将按期报告办理结果。",
                       "已安排专人对接企业，问题已基本解决，详细情况见书面报告。",
                       "已会同相关部门现场办公，形成解决方案，正在抓紧落实。")


REJECT_REASONS = ("不符合市重点项目入库标准（固定资产投资未达门槛）", "项目前期手续不完备，用地尚未落实",
                  "属于限制类产业，不予入库", "申报材料不完整，请补充后重新申报")


# ---------------------------------------------------------------------------------------
# credit codes, people, enterprises
# ---------------------------------------------------------------------------------------
_ORG_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"   # what a USCC may hold (no I O S V Z)


def stamp(t: _dt.datetime) -> str:
    """A naive Shanghai time as the store writes it (``2026-10-12T09:00:00+08:00``), without
    pendulum's cost: the demo writes some hundred thousand of them."""
    return t.strftime("%Y-%m-%dT%H:%M:%S+08:00")


def org_code_check(body: str) -> str:
    """The GB 11714 check character of an 8-character organisation code."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, weights))
    c9 = 11 - total % 11
    return "X" if c9 == 10 else "0" if c9 == 11 else str(c9)


def make_uscc(rng: random.Random, division: str) -> str:
    """A valid 18-character unified social credit code (GB 32100-2015): registration
    authority 9 (market regulation), type 1 (enterprise), the division code, a valid
    organisation code and the USCC check character."""
    if rng.random() < 0.7:   # codes issued since 2015: MA + 6
        body = "MA" + "".join(rng.choice(_ORG_ALPHABET) for _ in range(6))
    else:                    # older organisation codes: 8 digits
        body = str(rng.randint(16, 79)) + "".join(rng.choice("0123456789") for _ in range(6))
    code17 = "91" + division + body + org_code_check(body)
    return code17 + _uscc.calc_check_digit(code17)


def person_name(rng: random.Random) -> str:
    given = rng.choice(GIVEN_1) + (rng.choice(GIVEN_2) if rng.random() < 0.8 else "")
    return rng.choice(SURNAMES) + given


def mobile(rng: random.Random) -> str:
    prefix = rng.choice(("13", "15", "18"))
    third = rng.choice("0123456789" if prefix != "15" else "01235789")
    return prefix + third + "".join(rng.choice("0123456789") for _ in range(8))


def landline(rng: random.Random) -> str:
    return "0538-" + rng.choice("5678") + "".join(rng.choice("0123456789") for _ in range(6))


def _weighted(rng: random.Random, weights: dict) -> Any:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def enterprise_rows(rng: random.Random, counties: list[str], n: int, *,
                    created: _dt.datetime, certified_by: _dt.datetime,
                    uncertified: float = 0.04) -> list[dict]:
    """``n`` enterprises with unique valid credit codes and names, spread over ``counties``
    by :data:`COUNTY_WEIGHTS`."""
    quota: list[str] = []
    weights = {c: COUNTY_WEIGHTS.get(c, 50) for c in counties}
    total = sum(weights.values())
    for c in counties:
        quota += [c] * round(n * weights[c] / total)
    while len(quota) < n:
        quota.append(_weighted(rng, weights))
    quota = quota[:n]
    rng.shuffle(quota)
    codes: set[str] = set()
    names: set[str] = set()
    rows = []
    span = max(60, int((certified_by - created).total_seconds() // 60))
    for county in quota:
        division = DIVISION.get(county, ZONE_DIVISION)
        code = make_uscc(rng, division)
        while code in codes:
            code = make_uscc(rng, division)
        codes.add(code)
        industry = _weighted(rng, INDUSTRY_WEIGHTS)
        suffixes = INDUSTRIES[industry][0]
        while True:
            name = (rng.choice(NAME_PREFIX.get(county, ("泰安",))) + rng.choice(BRAND_CHARS)
                    + rng.choice(BRAND_CHARS) + rng.choice(suffixes))
            if name not in names:
                names.add(name)
                break
        tags = [t for t, p in zip(TAGS, (0.45, 0.06, 0.08, 0.35)) if rng.random() < p]
        phone = mobile(rng) if rng.random() < 0.6 else landline(rng)
        place = "山东省泰安市" + ("" if county in ("泰山景区", "徂汶景区") else county)
        if county == "泰安高新技术产业开发区":
            place = "山东省泰安市高新区"
        address = f"{place}{rng.choice(ROADS.get(county, ('东岳大街',)))}{rng.randint(1, 3999)}号"
        certified = None
        if rng.random() >= uncertified:
            certified = stamp(created + _dt.timedelta(minutes=rng.randint(60, span)))
        rows.append(dict(uscc=code, name=name, county=county, industry=industry, tags=",".join(tags),
                         contact=person_name(rng), phone=phone, address=address,
                         certified_at=certified, created_at=stamp(created), updated_at=certified or stamp(created)))
    return rows
