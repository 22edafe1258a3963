"""What a new company gets: the default quarterly questionnaire and version 1 of the
star-rating standards catalogue (30 hard standards: three levels × four categories), written
from the trade's practice. Companies edit their own copies."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from anju.quality.choices import CatalogueState, QuestionKind, QuestionnaireState
from anju.quality.models import Question, Questionnaire, Standard, StandardCatalogue

DEFAULT_QUESTIONNAIRE = {
    "title": "物业服务满意度季度调查",
    "description": (
        "尊敬的业主/住户：为了解您对本小区物业服务的评价，持续改进服务质量，"
        "特开展本次季度满意度调查。问卷约需3分钟，感谢您的支持！"
    ),
}

# (kind, dimension, text, required, options)
DEFAULT_QUESTIONS = [
    ("scale", "security", "您对小区秩序维护（门岗值守、巡逻、车辆管理）的满意程度？", True, []),
    ("scale", "cleaning", "您对楼道、电梯、地库等公共区域清洁卫生的满意程度？", True, []),
    ("scale", "repair", "您对报修服务（响应速度、维修质量）的满意程度？", True, []),
    (
        "scale",
        "customer_service",
        "您对客服中心（前台、热线、管家）服务态度和效率的满意程度？",
        True,
        [],
    ),
    ("scale", "greening", "您对小区绿化养护和景观的满意程度？", True, []),
    ("scale", "convenience", "您对便民服务（代收快递、家政、上门维修等）的满意程度？", True, []),
    ("scale", "overall", "总体而言，您对本小区物业服务的满意程度？", True, []),
    (
        "nps",
        "overall",
        "您有多大可能向亲友推荐本小区的物业服务？（0=完全不会，10=非常愿意）",
        True,
        [],
    ),
    (
        "multiple",
        "overall",
        "您最希望物业在哪些方面改进？（可多选）",
        False,
        [
            "秩序安全",
            "环境卫生",
            "维修效率",
            "客服态度",
            "绿化景观",
            "停车管理",
            "便民服务",
            "收费透明",
        ],
    ),
    (
        "single",
        "customer_service",
        "您最常通过什么方式联系物业？",
        False,
        ["手机端", "服务热线", "前台", "管家微信", "其他"],
    ),
    ("text", "repair", "对维修服务，您有什么意见或建议？", False, []),
    ("text", "cleaning", "对环境卫生和绿化，您有什么意见或建议？", False, []),
    ("text", "security", "对秩序维护和停车管理，您有什么意见或建议？", False, []),
    ("text", "overall", "其他意见或建议：", False, []),
]

# (code, level, category, title, criterion, weight, evidence, auto_check, target)
DEFAULT_STANDARDS = [
    # --- 基础 basic -----------------------------------------------------------------------------
    (
        "JC-AQ-01",
        "basic",
        "safety",
        "秩序巡逻全覆盖",
        "楼栋、地库、周界等公共区域日间巡逻每日不少于4次，夜间每2小时1次；巡更点覆盖率100%，漏巡当日补巡。",
        5,
        "巡更系统导出记录或巡更签到表（近30天），现场抽查3个巡更点。",
        "",
        None,
    ),
    (
        "JC-AQ-02",
        "basic",
        "safety",
        "消防设施月度检查",
        "消火栓、灭火器、应急照明、疏散指示、防火门每月全面检查1次，记录完整，完好率≥98%；消防通道无占用。",
        5,
        "近3个月消防设施检查表，现场抽查照片不少于3处（含消防通道）。",
        "",
        None,
    ),
    (
        "JC-AQ-03",
        "basic",
        "safety",
        "电梯安全与困人救援",
        "电梯年检合格证在有效期内并公示；维保单位每15日保养1次；困人救援30分钟内到场。",
        4,
        "电梯年检合格证、维保记录、最近一次困人救援记录或演练记录。",
        "",
        None,
    ),
    (
        "JC-HJ-01",
        "basic",
        "environment",
        "公共区域保洁频次",
        "楼道每日清扫1次、每周湿拖2次；电梯轿厢每日擦拭2次；垃圾日产日清，垃圾桶外观清洁无满溢。",
        4,
        "保洁作业计划与检查记录（近30天），现场抽查2个楼栋照片。",
        "",
        None,
    ),
    (
        "JC-HJ-02",
        "basic",
        "environment",
        "绿化日常养护",
        "草坪高度不超过8厘米，无明显杂草和病虫害；枯死苗木30日内补植；绿化带无垃圾。",
        3,
        "绿化养护记录，现场照片不少于3处。",
        "",
        None,
    ),
    (
        "JC-HJ-03",
        "basic",
        "environment",
        "四害消杀与设施清掏",
        "公共区域四害消杀每月1次；化粪池、隔油池每半年清掏1次；雨污管网汛前疏通。",
        3,
        "消杀记录与药剂台账、清掏记录或合同。",
        "",
        None,
    ),
    (
        "JC-BJ-01",
        "basic",
        "convenience",
        "报修首次响应及时",
        "报修、投诉等工单首次响应时间P90不超过30分钟（系统自动统计）。",
        5,
        "系统自动计算：评定期内工单首次响应时间的第90百分位。",
        "first_response_p90",
        Decimal("30"),
    ),
    (
        "JC-BJ-02",
        "basic",
        "convenience",
        "线上服务渠道",
        "提供24小时服务热线，住户可通过手机端、自助终端提交报修投诉并查询进度；线上渠道受理工单占比≥30%。",
        3,
        "系统自动计算：手机端、自助终端和接口渠道受理的工单占比。",
        "online_share",
        Decimal("30"),
    ),
    (
        "JC-BJ-03",
        "basic",
        "convenience",
        "投诉解决率",
        "评定期内受理的投诉解决率不低于90%。",
        4,
        "系统自动计算：已解决投诉数 ÷ 投诉总数（不含撤销）。",
        "complaint_resolution_rate",
        Decimal("90"),
    ),
    (
        "JC-RW-01",
        "basic",
        "humanity",
        "住户满意度达标",
        "季度满意度调查中，评分题选择“满意”“非常满意”（4–5分）的占比不低于75%。",
        5,
        "系统自动计算：评定期内满意度调查评分题4–5分占比。",
        "survey_satisfaction",
        Decimal("75"),
    ),
    (
        "JC-RW-02",
        "basic",
        "humanity",
        "服务信息公示",
        "物业服务内容与标准、收费项目与标准、服务电话、投诉渠道在小区显著位置和手机端公示。",
        2,
        "公示栏照片、手机端公示截图。",
        "",
        None,
    ),
    (
        "JC-RW-03",
        "basic",
        "humanity",
        "维修回访",
        "维修完成后48小时内回访，回访满意率不低于85%。",
        3,
        "系统自动计算：已回访（可联系上）工单中“满意/基本满意”的占比。",
        "return_visit_satisfaction",
        Decimal("85"),
    ),
    # --- 进阶 advanced --------------------------------------------------------------------------
    (
        "JJ-AQ-01",
        "advanced",
        "safety",
        "监控门禁与访客管理",
        "出入口、电梯轿厢、地库、周界监控全覆盖，录像保存不少于30天；访客100%登记或预约通行。",
        4,
        "监控点位图、录像调阅抽查记录、访客登记记录。",
        "",
        None,
    ),
    (
        "JJ-AQ-02",
        "advanced",
        "safety",
        "应急预案与演练",
        "火灾、防汛、电梯困人、公共卫生事件均有应急预案；每季度至少组织1次应急演练，有方案、照片和总结。",
        4,
        "应急预案文本、演练方案、签到表、照片与总结。",
        "",
        None,
    ),
    (
        "JJ-AQ-03",
        "advanced",
        "safety",
        "服务时限达成",
        "工单响应和办结均在服务时限（SLA）内完成的比例不低于90%。",
        4,
        "系统自动计算：已办结或已超时工单中，未超时办结的占比。",
        "sla_attainment",
        Decimal("90"),
    ),
    (
        "JJ-HJ-01",
        "advanced",
        "environment",
        "垃圾分类督导",
        "分类投放点设置规范、标识清晰；高峰时段桶边督导；分类准确率不低于80%。",
        3,
        "投放点照片、督导排班表、月度分类质量抽查记录。",
        "",
        None,
    ),
    (
        "JJ-HJ-02",
        "advanced",
        "environment",
        "品质巡查整改闭环",
        "品质巡查发现的问题均开具整改单，按期整改并验证关闭的比例不低于90%。",
        4,
        "系统自动计算：评定期内到期的整改单中按期验证关闭的占比。",
        "rectification_on_time",
        Decimal("90"),
    ),
    (
        "JJ-BJ-01",
        "advanced",
        "convenience",
        "反馈处理时效",
        "投诉、咨询、建议等住户反馈的平均处理时长不超过120分钟（扣除等待住户等挂起时间）。",
        4,
        "系统自动计算：反馈类工单从受理到办结的平均时长。",
        "feedback_handling_mean",
        Decimal("120"),
    ),
    (
        "JJ-BJ-02",
        "advanced",
        "convenience",
        "线上缴费与进度查询",
        "支持线上缴纳物业费、停车费；住户可在手机端实时查看工单进度和评价。",
        3,
        "缴费页面截图、线上缴费占比统计、工单进度页面截图。",
        "",
        None,
    ),
    (
        "JJ-BJ-03",
        "advanced",
        "convenience",
        "一次修复率",
        "维修工单返修（重新打开）率不超过5%。",
        3,
        "系统自动计算：曾被重新打开的工单 ÷ 已办结工单。",
        "reopen_rate",
        Decimal("5"),
    ),
    (
        "JJ-RW-01",
        "advanced",
        "humanity",
        "住户满意度良好",
        "季度满意度调查4–5分占比不低于85%。",
        5,
        "系统自动计算：评定期内满意度调查评分题4–5分占比。",
        "survey_satisfaction",
        Decimal("85"),
    ),
    (
        "JJ-RW-02",
        "advanced",
        "humanity",
        "社区文化活动",
        "每季度组织社区文化活动不少于2次（节日活动、邻里节、亲子活动等），有通知、照片和参与记录。",
        3,
        "活动通知、签到表、现场照片。",
        "",
        None,
    ),
    # --- 精英 elite ------------------------------------------------------------------------------
    (
        "JY-AQ-01",
        "elite",
        "safety",
        "智慧安防",
        "周界电子围栏、高空抛物监控、消防物联网监测接入平台，告警自动生成工单。",
        4,
        "系统接入清单、告警转工单记录截图。",
        "",
        None,
    ),
    (
        "JY-AQ-02",
        "elite",
        "safety",
        "工单升级率低",
        "因超时升级到主管及以上的工单占比不超过3%。",
        3,
        "系统自动计算：发生升级的工单 ÷ 受理工单（不含撤销）。",
        "escalation_rate",
        Decimal("3"),
    ),
    (
        "JY-HJ-01",
        "elite",
        "environment",
        "园林景观提升",
        "四季有花、景观节点每季度更新；绿化完好率不低于98%；水景水质清澈无异味。",
        3,
        "景观提升计划与实施照片、绿化巡查记录。",
        "",
        None,
    ),
    (
        "JY-HJ-02",
        "elite",
        "environment",
        "公共能耗管理",
        "公共区域能耗按月计量分析，年度同比下降不低于3%。",
        3,
        "月度能耗台账与分析报告。",
        "",
        None,
    ),
    (
        "JY-BJ-01",
        "elite",
        "convenience",
        "极速响应",
        "工单首次响应时间P90不超过10分钟（系统自动统计）。",
        4,
        "系统自动计算：评定期内工单首次响应时间的第90百分位。",
        "first_response_p90",
        Decimal("10"),
    ),
    (
        "JY-BJ-02",
        "elite",
        "convenience",
        "便民增值服务",
        "提供不少于6项便民增值服务（家政保洁、代收快递、上门理发、代买药品、宠物托管、儿童托管等），价格公示。",
        3,
        "服务目录与价格公示照片、服务记录。",
        "",
        None,
    ),
    (
        "JY-RW-01",
        "elite",
        "humanity",
        "住户满意度卓越",
        "季度满意度调查4–5分占比不低于90%。",
        5,
        "系统自动计算：评定期内满意度调查评分题4–5分占比。",
        "survey_satisfaction",
        Decimal("90"),
    ),
    (
        "JY-RW-02",
        "elite",
        "humanity",
        "适老与特殊群体关怀",
        "建立独居老人、残障人士等关爱档案，每周探访或电话问候1次；提供适老化改造建议和紧急呼叫服务。",
        4,
        "关爱档案、探访记录、服务照片。",
        "",
        None,
    ),
]


@transaction.atomic
def install_defaults(company) -> None:
    """Give a new company the default questionnaire and catalogue (once)."""
    if not Questionnaire.objects.filter(company=company, is_default=True).exists():
        create_default_questionnaire(company)
    if not StandardCatalogue.objects.filter(company=company).exists():
        catalogue = StandardCatalogue.objects.create(
            company=company,
            name="星级服务标准",
            version=1,
            state=CatalogueState.PUBLISHED,
            notes="默认标准：基础、进阶、精英三级，安全、环境、便捷、人文四类，共30项。",
        )
        from django.utils import timezone

        catalogue.published_at = timezone.now()
        catalogue.save(update_fields=["published_at"])
        Standard.objects.bulk_create(
            Standard(
                catalogue=catalogue,
                code=code,
                level=level,
                category=category,
                title=title,
                criterion=criterion,
                weight=weight,
                evidence_rule=evidence,
                auto_check=check,
                target=target,
                position=i,
            )
            for i, (code, level, category, title, criterion, weight, evidence, check, target) in (
                enumerate(DEFAULT_STANDARDS)
            )
        )


def create_default_questionnaire(company, *, created_by=None) -> Questionnaire:
    questionnaire = Questionnaire.objects.create(
        company=company,
        title=DEFAULT_QUESTIONNAIRE["title"],
        description=DEFAULT_QUESTIONNAIRE["description"],
        state=QuestionnaireState.ACTIVE,
        is_default=True,
        created_by=created_by,
    )
    Question.objects.bulk_create(
        Question(
            questionnaire=questionnaire,
            position=i,
            kind=QuestionKind(kind),
            dimension=dimension,
            text=text,
            required=required,
            options=options,
        )
        for i, (kind, dimension, text, required, options) in enumerate(DEFAULT_QUESTIONS)
    )
    return questionnaire
