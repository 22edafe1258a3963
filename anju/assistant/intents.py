"""What a resident's message asks for: a small classifier over jieba words and character
n-grams trained on ``data/intents/train.csv`` (written for this project, apart from the
evaluation questions), with a few rules in front of it for what must never be left to a
model: requests for other people's data and attempts to override the assistant's rules
(refused), an explicit "转人工" (hand-off), a bare greeting."""

from __future__ import annotations

import csv
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from anju.assistant.classifier import ModelMismatch, TextModel
from anju.assistant.text import normalise

logger = logging.getLogger("anju.assistant")

DATA = Path(__file__).resolve().parent / "data"
CORPUS = DATA / "intents" / "train.csv"
SHIPPED = DATA / "model" / "intents.npz"

# Someone else's data, everyone's data, or instructions aimed at the assistant itself.
PEOPLE = (
    r"(?:(?:所有|全部|其他|别的|每个|每一个|每家)(?:的)?(?:业主|住户|居民|人|家|户)"
    r"|邻居|隔壁|楼上|楼下|对门|别人|他家|她家)"
)
OTHERS_DATA = re.compile(
    PEOPLE + r".{0,12}(电话|手机|号码|身份证|住址|名单|姓名|名字|欠|账单|缴费|信息|资料)"
    r"|(业主|住户|居民)(的)?(电话|手机|名单|身份证|信息|资料)"
)
INJECTION = re.compile(
    r"忽略.{0,8}(指令|规则|设定|要求|提示)|无视.{0,8}(指令|规则|限制)|(你现在是|扮演|假装你是)|"
    r"系统提示|提示词|system\s*prompt|ignore\s+(all\s+|the\s+)?(previous|above|prior)|"
    r"jailbreak|developer\s*mode|开发者模式|管理员模式|越狱"
)
HANDOFF = re.compile(r"转人工|人工客服|人工服务|找人工|要人工|接人工|真人|^人工$|human|agent")
GREETING = re.compile(
    r"^(你好|您好|在吗|在么|在嘛|在不在|有人吗|客服在吗|客服在么|hello|hi|hey|嗨|哈喽|早|早安|"
    r"早上好|中午好|下午好|晚上好|晚安|谢谢|谢谢你|多谢|感谢|thanks|thank you|好的|好|ok|嗯|嗯嗯|"
    r"收到|知道了|明白了|辛苦了)[!！。.~～,，啊呀哈]*$"
)


@dataclass
class Reading:
    intent: str
    confidence: float
    rule: str = ""  # which rule decided, if one did


def load_corpus(path: Path = CORPUS) -> list[tuple[str, str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return [(r["text"], r["intent"], r.get("entry", "")) for r in csv.DictReader(fh)]


def train(rows: list[tuple[str, str, str]] | None = None) -> TextModel:
    rows = rows if rows is not None else load_corpus()
    return TextModel.fit(
        [r[0] for r in rows], {"intent": [r[1] for r in rows]}, meta={"kind": "intents"}
    )


_lock = threading.Lock()
_model: dict = {"model": None}


def model() -> TextModel:
    """The intent model of this process (the shipped file; trained from the corpus if the
    file is missing or unreadable)."""
    if _model["model"] is None:
        with _lock:
            if _model["model"] is None:
                try:
                    _model["model"] = TextModel.load(SHIPPED)
                except (ModelMismatch, OSError, KeyError, ValueError) as exc:
                    logger.warning("intent model unreadable (%s); training it", exc)
                    _model["model"] = train()
    return _model["model"]


def read(text: str) -> Reading:
    """The intent of one message, with how sure the reading is."""
    plain = normalise(text)
    compact = plain.replace(" ", "")
    if INJECTION.search(plain) or OTHERS_DATA.search(compact):
        return Reading("refuse", 1.0, rule="refuse")
    if HANDOFF.search(compact):
        return Reading("handoff", 1.0, rule="handoff")
    if GREETING.match(compact):
        return Reading("greeting", 1.0, rule="greeting")
    m = model()
    head = m.heads["intent"]
    proba = head.proba(m.features([plain]))[0]
    best = int(proba.argmax())
    return Reading(head.classes[best], float(proba[best]))


def probabilities(text: str) -> dict[str, float]:
    m = model()
    head = m.heads["intent"]
    proba = head.proba(m.features([normalise(text)]))[0]
    return {c: float(p) for c, p in zip(head.classes, proba, strict=True)}
