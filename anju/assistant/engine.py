"""The assistant (智能客服): reads what a resident asks and answers from the community's
knowledge base and the resident's own live data, collects a request step by step, or hands
the conversation to a person.

Everything it reads goes through the asking resident's scope: their household's bills, their
household's requests, the notices meant for their home, their community's contacts — never
anyone else's. The knowledge base holds no personal data, and it is the only thing an
optional LLM ever sees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from anju.assistant import intents, llm, retrieval
from anju.assistant.choices import Intent, Outcome
from anju.assistant.classifier import URGENT_RULES as URGENT
from anju.assistant.text import has_words, is_chinese, normalise

# How sure a reading must be. Chosen on the development data (the intent corpus and its
# knowledge questions, see ``bench/assistant.py --sweep``), not on the evaluation questions.
INTENT_MIN = 0.40  # below this the intent reading is not trusted on its own
KB_MIN = 0.25  # knowledge-base confidence needed to answer a question from an entry
KB_MIN_UNSURE = 0.40  # the same when the intent reading was unsure
GUIDE_BEFORE_REPORT = 0.30  # a problem statement gets the self-help guide first above this

CANCEL = re.compile(r"^(取消|算了|不用了|不报了|不要了|退出|cancel|不用|先不了)")
YES = re.compile(r"^(是|是的|对|对的|没错|嗯|好|好的|确认|提交|可以|行|ok|yes|确定)")
NO = re.compile(r"^(不是|不对|错了|否|no)")
UNSURE = re.compile(r"不确定|不知道|不清楚|你看着办|帮我选|随便")
REPORT_WORDS = re.compile(
    r"我要|我想|帮我|给我|麻烦|请|报修|报个修|报一下|投诉|举报|反映|建议|表扬|派人|派个|安排|师傅|"
    r"上门|来修|来人|找人|修一下|提交|工单|登记|下单|一下|吧|了|啊|呀"
)
EXPLICIT_REPORT = re.compile(
    r"报修|报个修|投诉|举报|派人|派个|安排.{0,4}(人|师傅)|师傅|上门|来修|来人|找人|提交|工单"
)
NOTICE_KINDS = [
    ("elevator", re.compile(r"电梯|升降梯|直梯|扶梯")),
    ("water_cut", re.compile(r"停水|没水|断水|供水|来水|水")),
    ("power_cut", re.compile(r"停电|没电|断电|来电|供电|电")),
    ("gas_cut", re.compile(r"停气|燃气|天然气|煤气|气")),
]
TYPE_WORDS = [
    ("complaint", re.compile(r"投诉|举报|反映|太吵|扰民|占用|乱停|态度")),
    ("suggestion", re.compile(r"建议|希望增加|能不能增加")),
    ("praise", re.compile(r"表扬|感谢|点赞|赞一个")),
]
TIME_WORDS = re.compile(
    r"(今天|明天|后天|今晚|明早|周[一二三四五六日天]|星期[一二三四五六日天])?\s*"
    r"(上午|早上|中午|下午|傍晚|晚上)?\s*(\d{1,2})?(点|:|：)?(\d{2})?"
)
# A live-data answer needs a word of its subject in the question; without one the reading is
# not trusted (e.g. "卖房的话物业这边怎么弄" is not about contacts, whatever the model says).
EVIDENCE = {
    "bill": re.compile(r"钱|费|账|帐|欠|交|缴|付|逾期|结清|bill|owe|pay|fee", re.I),
    "status": re.compile(
        r"报修|修|工单|单子|进度|进展|师傅|派|投诉|处理|反映|建议|接单|状态|结果|回复|到哪|多久|"
        r"什么时候来|啥时候|request|repair|status",
        re.I,
    ),
    "notices": re.compile(
        r"停|通知|公告|检修|维保|保养|恢复|来水|来电|消息|安排|施工|活动|检查|notice", re.I
    ),
    "contacts": re.compile(
        r"电话|号码|热线|联系|几点|上班|下班|开门|关门|休息|地址|在哪|位置|办公|营业|值班|找谁|"
        r"找物业|周末|周日|周六|节假日|过年|时间|phone|hours|office|contact",
        re.I,
    ),
}
# A question about fees (how, where, why, wrong) rather than a look at one's own bills.
FEE_QUESTION = re.compile(
    r"怎么|如何|哪里|在哪|能不能|可不可以|可以|能用|为什么|算错|不对|多收|发票|标准|网上|线上"
)
NOTICE_WORDS = re.compile(r"停水|停电|停气|断水|断电|维保|保养|检修|公告|通知")
ANYTIME = re.compile(r"随时|都可以|都行|什么时候都|任何时间|无所谓|尽快|越快越好|马上")


@dataclass
class Reply:
    """What the assistant says, and what it is based on."""

    text: str
    intent: str
    outcome: str
    confidence: float | None = None
    sources: list[dict] = field(default_factory=list)
    actions: list[dict] = field(default_factory=list)
    faq_entry_id: int | None = None
    handoff: bool = False
    flow: dict | None = None  # the conversation's flow after this reply ({} ends it)
    request_id: int | None = None  # a request this reply created or named
    llm: bool = False


@dataclass
class Context:
    """Who asks, from where. ``rooms`` are the household's rooms (with community)."""

    scope: object
    user: object
    company: object
    community: object
    resident: object | None
    rooms: list
    flow: dict
    handoff_request_id: int | None = None
    history: list[str] = field(default_factory=list)  # the resident's recent messages
    channel: str = "resident_app"
    now: datetime = field(default_factory=timezone.now)


def _request_title(request) -> str:
    """How a request is named as the basis of an answer ("依据：工单 GD…")."""
    return _("Request %(number)s") % {"number": request.number or request.pk}


def menu() -> list[dict]:
    return [
        {"label": _("My bills"), "send": _("How much do I owe?")},
        {"label": _("Request progress"), "send": _("Where is my repair?")},
        {"label": _("Notices"), "send": _("Any notices?")},
        {"label": _("Report a problem"), "send": _("I want to report a repair")},
        {"label": _("Contacts"), "send": _("What is the office phone number?")},
        {"label": _("Talk to a person"), "send": _("Transfer to a person")},
    ]


def when(moment: datetime | None, now: datetime) -> str:
    """A time as a resident reads it: today 14:30, tomorrow 09:00, 11-25 09:00."""
    if moment is None:
        return ""
    local, today = timezone.localtime(moment), timezone.localtime(now).date()
    if local.date() == today:
        return _("today %(time)s") % {"time": f"{local:%H:%M}"}
    if local.date() == today + timedelta(days=1):
        return _("tomorrow %(time)s") % {"time": f"{local:%H:%M}"}
    return f"{local:%m-%d %H:%M}"


def money(amount) -> str:
    return f"¥{amount:,.2f}"


# --- the main entry ------------------------------------------------------------------------------
def answer(ctx: Context, text: str) -> Reply:
    """The reply to one message."""
    reply = _answer(ctx, text)
    reply.confidence = None if reply.confidence is None else round(reply.confidence, 4)
    reply.actions = reply.actions[:8]
    return reply


def _answer(ctx: Context, text: str) -> Reply:
    plain = normalise(text)
    if ctx.flow.get("step"):
        if CANCEL.match(plain):
            return Reply(
                _("All right, nothing was submitted. What else can I do for you?"),
                Intent.SUBMIT,
                Outcome.ANSWERED,
                actions=menu(),
                flow={},
            )
        return _flow_step(ctx, plain)
    if not has_words(plain):
        return Reply(
            _("Sorry, I could not read that. Please tell me in a few words what you need."),
            Intent.UNKNOWN,
            Outcome.CLARIFY,
            actions=menu(),
        )
    reading = intents.read(plain)
    intent, confidence = reading.intent, reading.confidence
    if intent == "refuse":
        return _refuse(confidence)
    if intent == "handoff":
        return handoff(ctx, plain, confidence=confidence)
    if intent == "greeting" and not reading.rule and len(plain) > 8:
        intent, confidence = "knowledge", 0.0  # a long message is not a greeting
    if intent == "greeting":
        return Reply(
            _(
                "Hello, I am the community's online assistant. I can look up your bills, the "
                "progress of your requests and current notices, answer common questions, help "
                "you report a problem, or pass you to a person."
            ),
            Intent.GREETING,
            Outcome.ANSWERED,
            confidence=confidence,
            actions=menu(),
        )
    if URGENT.search(plain):  # an emergency: the safety guide first, whatever else was read
        match = best_entry(ctx, plain)
        if match and match.doc.kind == "guide" and match.confidence >= KB_MIN / 2:
            return _entry_reply(ctx, plain, match)
    if intent == "contacts" and NOTICE_WORDS.search(plain):
        intent = "notices"
    sure = confidence >= INTENT_MIN
    if intent in EVIDENCE and not EVIDENCE[intent].search(plain):
        intent, sure = "knowledge", False
    if sure and intent == "bill" and FEE_QUESTION.search(plain):
        match = best_entry(ctx, plain)
        if match and match.doc.slug.startswith("fees.") and match.confidence >= KB_MIN:
            return _entry_reply(ctx, plain, match)
    if sure and intent == "bill":
        return _bills(ctx, confidence)
    if sure and intent == "status":
        return _status(ctx, confidence)
    if sure and intent == "notices":
        return _notices(ctx, plain, confidence)
    if sure and intent == "contacts":
        return _contacts(ctx, confidence)
    if sure and intent == "submit":
        return _report(ctx, plain, confidence)
    return _knowledge(ctx, plain, confidence, sure=sure and intent == "knowledge")


# --- refusals and hand-off -----------------------------------------------------------------------
def _refuse(confidence: float) -> Reply:
    return Reply(
        _(
            "Sorry, I cannot do that. I only answer from the community's published information "
            "and your own household's records, and I never give out other residents' details. "
            "Is there something about your own home I can help with?"
        ),
        Intent.REFUSE,
        Outcome.REFUSED,
        confidence=confidence,
        sources=[{"kind": "policy", "title": _("Privacy rules of the assistant")}],
        actions=menu(),
    )


def handoff(ctx: Context, plain: str, *, confidence: float | None = None) -> Reply:
    """Pass the question to a person: a consultation request (or a note on the one already
    open), and tell the resident who will answer and by when."""
    from anju.assistant import handoffs

    try:
        result = handoffs.hand_off(ctx, plain)
    except handoffs.NoHandoff as exc:
        phone = ctx.community.phone or ctx.company.phone
        return Reply(
            _("Sorry, I cannot pass this on right now (%(reason)s). Please call %(phone)s.")
            % {"reason": exc.reason, "phone": phone or _("the service desk")},
            Intent.HANDOFF,
            Outcome.HANDED_OFF,
            confidence=confidence,
            handoff=True,
        )
    request = result.request
    who = (
        request.assignee.name
        if request.assignee_id
        else _("The service desk of %(name)s") % {"name": ctx.community.name}
    )
    by = when(request.respond_by, ctx.now)
    phone = ctx.community.phone or ctx.company.phone
    if result.appended:
        text = _(
            "I have added this to your open request %(number)s. %(who)s will answer you%(by)s."
        )
    else:
        text = _(
            "I am not sure I can answer that well, so I have passed it to a person: request "
            "%(number)s. %(who)s will answer you%(by)s."
        )
    text = text % {
        "number": request.number,
        "who": who,
        "by": (_(" by %(time)s") % {"time": by}) if by else "",
    }
    if phone:
        text += " " + _("If it is urgent, call %(phone)s.") % {"phone": phone}
    return Reply(
        text,
        Intent.HANDOFF,
        Outcome.HANDED_OFF,
        confidence=confidence,
        sources=[{"kind": "request", "id": request.pk, "title": _request_title(request)}],
        actions=[{"label": _("Open the request"), "url": f"/m/requests/{request.pk}/"}],
        handoff=True,
        request_id=request.pk,
    )


# --- live data -------------------------------------------------------------------------------------
def _bills(ctx: Context, confidence: float) -> Reply:
    from anju.billing.selectors import household_bills

    data = household_bills(scope=ctx.scope)
    owing = data["owing"]
    source = {
        "kind": "bills",
        "title": _("Your household's bills as of %(time)s")
        % {"time": f"{timezone.localtime(ctx.now):%m-%d %H:%M}"},
    }
    actions = [
        {"label": _("Open my bills"), "url": "/m/bills/"},
        {"label": _("How do I pay?"), "send": _("How do I pay the property fee?")},
    ]
    if not owing:
        last = data["paid"][0] if data["paid"] else None
        text = _("Your household has nothing to pay. Thank you!")
        if last is not None:
            text += " " + _("Last paid: %(item)s %(month)s, %(amount)s on %(date)s.") % {
                "item": last.fee_item.name,
                "month": f"{last.period:%Y-%m}",
                "amount": money(last.amount),
                "date": f"{timezone.localtime(last.paid_at):%Y-%m-%d}" if last.paid_at else "",
            }
        return Reply(text, Intent.BILL, Outcome.ANSWERED, confidence, [source], actions)
    lines = [
        ngettext(
            "Your household has %(n)d unpaid bill, %(total)s%(overdue)s:",
            "Your household has %(n)d unpaid bills, %(total)s in all%(overdue)s:",
            len(owing),
        )
        % {
            "n": len(owing),
            "total": money(data["owing_total"]),
            "overdue": (_(" (%(k)d overdue)") % {"k": data["overdue_count"]})
            if data["overdue_count"]
            else "",
        }
    ]
    for bill in owing[:6]:
        lines.append(
            "· "
            + _("%(item)s %(month)s (%(room)s): %(amount)s, due %(due)s%(late)s")
            % {
                "item": bill.fee_item.name,
                "month": f"{bill.period:%Y-%m}",
                "room": bill.room.label,
                "amount": money(bill.amount),
                "due": f"{bill.due_date:%m-%d}",
                "late": (" · " + _("overdue")) if bill.status == "overdue" else "",
            }
        )
    if len(owing) > 6:
        lines.append(_("…and %(n)d more in your bills.") % {"n": len(owing) - 6})
    return Reply("\n".join(lines), Intent.BILL, Outcome.ANSWERED, confidence, [source], actions)


def _status(ctx: Context, confidence: float) -> Reply:
    from anju.servicedesk.choices import ACTIVE_STATES
    from anju.servicedesk.selectors import request_list

    rows = list(
        request_list(scope=ctx.scope).filter(state__in=ACTIVE_STATES).order_by("-created_at")[:3]
    )
    recent = False
    if not rows:
        rows = list(request_list(scope=ctx.scope).order_by("-created_at")[:1])
        recent = True
    source = {"kind": "requests", "title": _("Your household's requests")}
    if not rows:
        return Reply(
            _("Your household has no requests yet. Shall I help you report a problem?"),
            Intent.STATUS,
            Outcome.ANSWERED,
            confidence,
            [source],
            [{"label": _("Report a problem"), "send": _("I want to report a repair")}],
        )
    lines = [_("You have no open request; the latest one:") if recent else _("Your open requests:")]
    actions = []
    for r in rows:
        parts = [f"{r.number} · {r.category.name} · {r.get_state_display()}"]
        if r.assignee_id:
            parts.append(_("handled by %(name)s") % {"name": r.assignee.name})
        if r.state in ("submitted", "reopened") and r.respond_by and not r.responded_at:
            parts.append(
                _("someone will respond by %(time)s") % {"time": when(r.respond_by, ctx.now)}
            )
        elif r.state in ("assigned", "accepted", "in_progress") and r.resolve_by:
            parts.append(_("to be done by %(time)s") % {"time": when(r.resolve_by, ctx.now)})
        elif r.state == "resolved":
            parts.append(_("finished: please confirm and rate it"))
        elif r.state == "on_hold":
            parts.append(_("on hold: %(reason)s") % {"reason": r.get_hold_reason_display() or "—"})
        lines.append("· " + "，".join(parts))
        actions.append({"label": r.number, "url": f"/m/requests/{r.pk}/"})
        source.setdefault("ids", []).append(r.pk)
    return Reply("\n".join(lines), Intent.STATUS, Outcome.ANSWERED, confidence, [source], actions)


def notice_kind(plain: str) -> str:
    for kind, pattern in NOTICE_KINDS:
        if pattern.search(plain):
            return kind
    return ""


def _notice_lines(rows) -> list[str]:
    return [f"· 【{n.get_category_display()}】{n.title}\n  {n.body[:160]}" for n in rows[:4]]


def _notices(ctx: Context, plain: str, confidence: float) -> Reply:
    from anju.engagement.selectors import current_notices

    rows = current_notices(scope=ctx.scope, now=ctx.now)
    kind = notice_kind(plain)
    wanted = [n for n in rows if n.category == kind] if kind else rows
    sources = [{"kind": "notice", "id": n.pk, "title": n.title} for n in wanted[:4]]
    actions = [{"label": _("All notices"), "url": "/m/notices/"}]
    if wanted:
        head = _("Current notices for your home:") if not kind else _("Yes, there is a notice:")
        text = "\n".join([head, *_notice_lines(wanted)])
        return Reply(text, Intent.NOTICES, Outcome.ANSWERED, confidence, sources, actions)
    source = [{"kind": "notices", "title": _("Current notices for your home")}]
    if kind:
        text = _("There is no current notice about that for your home.")
        if rows:
            text += "\n" + _("Other current notices:") + "\n" + "\n".join(_notice_lines(rows))
        guide = {"water_cut": "guide.no_water", "power_cut": "guide.power_out"}.get(kind)
        if guide:
            actions.append(
                {
                    "label": _("What to check at home"),
                    "send": _("No water at home, what should I do?")
                    if kind == "water_cut"
                    else _("No power at home, what should I do?"),
                }
            )
        return Reply(text, Intent.NOTICES, Outcome.ANSWERED, confidence, source, actions)
    return Reply(
        _("There are no current notices for your home."),
        Intent.NOTICES,
        Outcome.ANSWERED,
        confidence,
        source,
        actions,
    )


def _contacts(ctx: Context, confidence: float) -> Reply:
    c, company = ctx.community, ctx.company
    lines = [_("%(name)s service desk:") % {"name": c.name}]
    if c.phone:
        lines.append("· " + _("Phone: %(phone)s") % {"phone": c.phone})
    if c.office_hours:
        lines.append("· " + _("Office hours: %(hours)s") % {"hours": c.office_hours})
    if c.address:
        lines.append("· " + _("Address: %(address)s") % {"address": c.address})
    if company.phone:
        lines.append(
            "· "
            + _("%(company)s hotline (24 hours): %(phone)s")
            % {"company": company, "phone": company.phone}
        )
    lines.append(_("Outside office hours the duty guard at the gate can help with emergencies."))
    return Reply(
        "\n".join(lines),
        Intent.CONTACTS,
        Outcome.ANSWERED,
        confidence,
        [
            {
                "kind": "community",
                "id": c.pk,
                "title": _("Contact details of %(name)s") % {"name": c.name},
            }
        ],
        [{"label": _("Call"), "url": f"tel:{c.phone or company.phone}"}]
        if (c.phone or company.phone)
        else [],
    )


# --- knowledge -------------------------------------------------------------------------------------
def best_entry(ctx: Context, plain: str):
    """The knowledge entry that answers ``plain`` (with its confidence), or ``None``."""
    return retrieval.index_for(ctx.company.pk, ctx.community.pk).best(plain)


def _entry_reply(ctx: Context, plain: str, match, intent=Intent.KNOWLEDGE) -> Reply:
    doc = match.doc
    text = doc.answer
    used_llm = False
    phrased = llm.phrase(question=plain, title=doc.question, content=doc.answer)
    if phrased:
        text, used_llm = phrased, True
    actions = []
    sources = [{"kind": doc.kind, "id": doc.id, "title": doc.question}]
    if doc.kind == "guide" and doc.category_code:
        actions.append(
            {
                "label": _("Still not fixed: report it"),
                "send": _("Please send someone: %(q)s") % {"q": plain[:60]},
            }
        )
        text = _notice_prefix(ctx, doc.slug) + text
    return Reply(
        text,
        intent,
        Outcome.ANSWERED,
        confidence=match.confidence,
        sources=sources,
        actions=actions,
        faq_entry_id=doc.id,
        llm=used_llm,
    )


def _notice_prefix(ctx: Context, slug: str) -> str:
    """A water or power cut on now explains "no water" before any checking at home."""
    kind = {"guide.no_water": "water_cut", "guide.power_out": "power_cut"}.get(slug)
    if not kind:
        return ""
    from anju.engagement.selectors import current_notices

    rows = [n for n in current_notices(scope=ctx.scope, now=ctx.now) if n.category == kind]
    if not rows:
        return ""
    return _("Note: there is a notice for your home: %(title)s") % {"title": rows[0].title} + "\n\n"


def _knowledge(ctx: Context, plain: str, confidence: float, *, sure: bool) -> Reply:
    match = best_entry(ctx, plain)
    if match is not None and match.confidence >= (KB_MIN if sure else KB_MIN_UNSURE):
        return _entry_reply(ctx, plain, match)
    if not is_chinese(plain):  # gibberish, markup, a language the knowledge base is not in
        return Reply(
            _(
                "Sorry, I did not understand. Please ask in a short sentence (Chinese works "
                "best), or say “transfer to a person”."
            ),
            Intent.UNKNOWN,
            Outcome.CLARIFY,
            confidence=confidence,
            actions=menu(),
        )
    return handoff(ctx, plain, confidence=confidence)


# --- reporting a problem ---------------------------------------------------------------------------
def _details(plain: str) -> str:
    """What is left of a message once the words of asking are taken out."""
    return REPORT_WORDS.sub("", plain).strip(" ，,。.!！?？:：")


def _report(ctx: Context, plain: str, confidence: float) -> Reply:
    """A problem to fix: the self-help guide first when there is a good one and the resident did
    not ask for someone to come; otherwise collect the request."""
    if not EXPLICIT_REPORT.search(plain):
        match = best_entry(ctx, plain)
        if match and match.doc.kind == "guide" and match.confidence >= GUIDE_BEFORE_REPORT:
            return _entry_reply(ctx, plain, match)
    if not ctx.rooms:
        return Reply(
            _(
                "No room is linked to your account yet, so I cannot file a request. Please ask the service desk to link your home."
            ),
            Intent.SUBMIT,
            Outcome.CLARIFY,
            confidence,
            actions=menu(),
        )
    flow = {"step": "description", "type": _type_of(plain)}
    if len(_details(plain)) >= 3:
        flow["description"] = plain[:500]
        return _ask_category(ctx, flow, confidence)
    return Reply(
        _("Sure. Please describe the problem in a sentence or two: what is wrong, and where?"),
        Intent.SUBMIT,
        Outcome.FLOW,
        confidence,
        flow=flow,
    )


def _type_of(plain: str) -> str:
    for kind, pattern in TYPE_WORDS:
        if pattern.search(plain):
            return kind
    return ""


def _categories(company_id: int):
    from anju.servicedesk.selectors import leaf_categories

    return leaf_categories(company_id=company_id)


def _ask_category(ctx: Context, flow: dict, confidence: float | None) -> Reply:
    from anju.assistant.classifier import classify

    version, prediction = classify(flow["description"])
    categories = {c.code: c for c in _categories(ctx.company.pk)}
    ranked = [prediction.category] + [c for c, _p in prediction.alternatives]
    if flow.get("type"):
        typed = [
            c for c in ranked if c in categories and categories[c].request_type == flow["type"]
        ]
        ranked = typed or ranked
    ranked = [c for c in ranked if c in categories][:3]
    flow.update(step="category", suggested=ranked, urgency=prediction.urgency, model=version)
    if not ranked:
        flow["step"] = "room"
        return _ask_room(ctx, flow)
    first = categories[ranked[0]]
    actions = [{"label": categories[c].name, "send": categories[c].name} for c in ranked]
    actions.append({"label": _("Not sure"), "send": _("Not sure")})
    return Reply(
        _(
            "Got it: “%(text)s”. This looks like %(category)s. Is that right? (Choose below, or type another category.)"
        )
        % {
            "text": flow["description"][:80],
            "category": f"{first.get_request_type_display()} · {first.name}",
        },
        Intent.SUBMIT,
        Outcome.FLOW,
        confidence if confidence is not None else prediction.confidence,
        sources=[
            {
                "kind": "classifier",
                "title": _("Request classifier v%(v)d, %(p)d%% sure")
                % {"v": version, "p": round(prediction.confidence * 100)},
            }
        ],
        actions=actions,
        flow=flow,
    )


def _ask_room(ctx: Context, flow: dict) -> Reply:
    if len(ctx.rooms) == 1:
        flow["room_id"] = ctx.rooms[0].pk
        return _ask_time(ctx, flow)
    flow["step"] = "room"
    return Reply(
        _("Which home is it about?"),
        Intent.SUBMIT,
        Outcome.FLOW,
        actions=[
            {"label": f"{r.community.name} {r.label}", "send": r.label} for r in ctx.rooms[:6]
        ],
        flow=flow,
    )


def _ask_time(ctx: Context, flow: dict) -> Reply:
    from anju.servicedesk.models import Category

    category = Category.objects.filter(company=ctx.company, code=flow.get("category")).first()
    if category is None or category.request_type != "repair":
        return _confirm(ctx, flow)
    flow["step"] = "time"
    return Reply(
        _(
            "When may the technician come? (e.g. this afternoon, tomorrow morning, tomorrow 3 pm, any time)"
        ),
        Intent.SUBMIT,
        Outcome.FLOW,
        actions=[
            {"label": _("Any time"), "send": _("Any time")},
            {"label": _("This afternoon"), "send": "今天下午"},
            {"label": _("Tomorrow morning"), "send": "明天上午"},
            {"label": _("Tomorrow afternoon"), "send": "明天下午"},
        ],
        flow=flow,
    )


def parse_time(plain: str, now: datetime) -> tuple[datetime | None, datetime | None] | None:
    """A preferred visit window from Chinese words: 今天下午, 明天上午, 明天3点, 后天晚上;
    ``(None, None)`` for "any time"; ``None`` when nothing could be read."""
    if ANYTIME.search(plain) or plain in ("any time",):
        return None, None
    match = TIME_WORDS.search(plain)
    if not match or not any(match.groups()[:3]):
        return None
    day_word, part, hour = match.group(1), match.group(2), match.group(3)
    local = timezone.localtime(now)
    day = local.date()
    offsets = {"明天": 1, "明早": 1, "后天": 2}
    if day_word in offsets:
        day = day + timedelta(days=offsets[day_word])
    elif day_word and day_word[-1] in "一二三四五六日天":
        target = "一二三四五六日天".index(day_word[-1])
        target = 6 if target == 7 else target
        day = day + timedelta(days=(target - local.weekday()) % 7 or 7)
    windows = {
        "上午": (9, 12), "早上": (8, 10), "中午": (12, 14), "下午": (14, 18),
        "傍晚": (17, 19), "晚上": (18, 21), "今晚": (18, 21),
    }  # fmt: skip
    if day_word == "今晚":
        part = part or "今晚"
    if hour:
        h = int(hour)
        if part in ("下午", "傍晚", "晚上", "今晚") and h < 12:
            h += 12
        if not 0 <= h <= 23:
            return None
        start_h, end_h = h, min(h + 2, 23)
    elif part:
        start_h, end_h = windows[part]
    else:
        start_h, end_h = 9, 18
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(
        datetime.combine(day, datetime.min.time()).replace(hour=start_h), tz
    )
    end = timezone.make_aware(datetime.combine(day, datetime.min.time()).replace(hour=end_h), tz)
    if end <= now:
        start, end = start + timedelta(days=1), end + timedelta(days=1)
    return start, end


def _confirm(ctx: Context, flow: dict) -> Reply:
    from anju.servicedesk.models import Category

    flow["step"] = "confirm"
    category = Category.objects.filter(company=ctx.company, code=flow.get("category")).first()
    room = next((r for r in ctx.rooms if r.pk == flow.get("room_id")), None)
    lines = [
        _("Please check before I submit:"),
        "· "
        + _("Home: %(room)s") % {"room": f"{room.community.name} {room.label}" if room else "—"},
        "· "
        + _("Category: %(category)s")
        % {"category": category.name if category else _("left to the service desk")},
        "· " + _("Problem: %(text)s") % {"text": flow.get("description", "")[:200]},
    ]
    if flow.get("time_text"):
        lines.append("· " + _("Preferred visit: %(time)s") % {"time": flow["time_text"]})
    return Reply(
        "\n".join(lines),
        Intent.SUBMIT,
        Outcome.FLOW,
        actions=[
            {"label": _("Submit"), "send": _("Submit")},
            {"label": _("Cancel"), "send": _("Cancel")},
        ],
        flow=flow,
    )


def _flow_step(ctx: Context, plain: str) -> Reply:
    flow = dict(ctx.flow)
    step = flow.get("step")
    if step == "description":
        if len(_details(plain)) < 2:
            return Reply(
                _("Please tell me what is wrong and where, e.g. “the kitchen tap is leaking”."),
                Intent.SUBMIT,
                Outcome.FLOW,
                flow=flow,
            )
        flow["description"] = plain[:500]
        return _ask_category(ctx, flow, None)
    if step == "category":
        categories = {c.code: c for c in _categories(ctx.company.pk)}
        suggested = [c for c in flow.get("suggested", []) if c in categories]
        chosen = None
        for code, c in categories.items():
            if c.name and c.name in plain:
                chosen = code
                break
        if chosen is None and suggested and (YES.match(plain) or UNSURE.search(plain)):
            chosen = suggested[0]
        if chosen is None and len(_details(plain)) >= 4:  # a new description, not a choice
            flow["description"] = plain[:500]
            return _ask_category(ctx, flow, None)
        if chosen is None:
            names = "、".join(categories[c].name for c in suggested) or "—"
            return Reply(
                _("Please choose one of: %(names)s, or say “not sure”.") % {"names": names},
                Intent.SUBMIT,
                Outcome.FLOW,
                actions=[
                    {"label": categories[c].name, "send": categories[c].name} for c in suggested
                ],
                flow=flow,
            )
        flow["category"] = chosen
        return _ask_room(ctx, flow)
    if step == "room":
        room = next((r for r in ctx.rooms if r.label in plain or plain in r.label), None)
        if room is None:
            return _ask_room(ctx, flow)
        flow["room_id"] = room.pk
        return _ask_time(ctx, flow)
    if step == "time":
        window = parse_time(plain, ctx.now)
        if window is None:
            return Reply(
                _(
                    "Sorry, I did not get the time. Try “tomorrow morning”, “today 3 pm” or “any time”."
                ),
                Intent.SUBMIT,
                Outcome.FLOW,
                flow=flow,
            )
        start, end = window
        flow["preferred_from"] = start.isoformat() if start else None
        flow["preferred_to"] = end.isoformat() if end else None
        flow["time_text"] = (
            f"{when(start, ctx.now)}–{timezone.localtime(end):%H:%M}" if start else _("any time")
        )
        return _confirm(ctx, flow)
    if step == "confirm":
        if YES.match(plain) or plain == normalise(_("Submit")):
            return _submit(ctx, flow)
        if NO.match(plain):
            return Reply(
                _("All right, nothing was submitted. What else can I do for you?"),
                Intent.SUBMIT,
                Outcome.ANSWERED,
                actions=menu(),
                flow={},
            )
        return _confirm(ctx, flow)
    return Reply(_("Let us start again."), Intent.SUBMIT, Outcome.CLARIFY, actions=menu(), flow={})


def _submit(ctx: Context, flow: dict) -> Reply:
    from anju.core.errors import AnjuError
    from anju.servicedesk import services as desk
    from anju.servicedesk.models import Category

    room = next((r for r in ctx.rooms if r.pk == flow.get("room_id")), None)
    category = Category.objects.filter(
        company=ctx.company, code=flow.get("category"), is_active=True
    ).first()
    if room is None or category is None:
        return Reply(
            _("Something is missing; let us start again."),
            Intent.SUBMIT,
            Outcome.CLARIFY,
            actions=menu(),
            flow={},
        )
    from anju.estates.models import Resident

    requester = Resident.objects.filter(
        pk__in=ctx.scope.resident_ids, community_id=room.community_id, is_active=True
    ).first()
    parse = datetime.fromisoformat
    try:
        created = desk.request_submit(
            scope=ctx.scope,
            channel=ctx.channel,
            submission=desk.Submission(
                community=room.community,
                category=category,
                room=room,
                description=flow["description"],
                requester=requester,
                preferred_from=parse(flow["preferred_from"])
                if flow.get("preferred_from")
                else None,
                preferred_to=parse(flow["preferred_to"]) if flow.get("preferred_to") else None,
            ),
        )
    except AnjuError as exc:
        return Reply(
            _("The request could not be submitted: %(reason)s") % {"reason": exc.message},
            Intent.SUBMIT,
            Outcome.CLARIFY,
            actions=menu(),
            flow={},
        )
    text = _("Submitted: request %(number)s (%(category)s).") % {
        "number": created.number,
        "category": category.name,
    }
    if created.respond_by:
        text += " " + _(
            "Someone will respond by %(time)s; you will get a message at each step."
        ) % {"time": when(created.respond_by, ctx.now)}
    return Reply(
        text,
        Intent.SUBMIT,
        Outcome.ANSWERED,
        sources=[{"kind": "request", "id": created.pk, "title": _request_title(created)}],
        actions=[{"label": _("Open the request"), "url": f"/m/requests/{created.pk}/"}],
        flow={},
        request_id=created.pk,
    )
