"""Chinese text for the classifier and the knowledge base: normalising what people type,
jieba words with the trade's vocabulary, and the synonym list that makes 管理费 find 物业费."""

from __future__ import annotations

import html
import logging
import re
import threading
import unicodedata
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
MAX_CHARS = 500  # what is read of one message; the rest is kept but not analysed

TAG = re.compile(r"<[^>]{0,200}>")
SPACE = re.compile(r"\s+")
REPEAT = re.compile(r"([!?。！？~～.…，,])\1+")
CJK = re.compile(r"[\u4e00-\u9fff]")
WORD = re.compile(r"[\u4e00-\u9fffa-z0-9]")

# Words jieba's dictionary splits badly in this trade.
TRADE_WORDS = [
    "物业费", "管理费", "物业服务费", "门禁卡", "跳闸", "空开", "漏保", "地漏", "马桶", "坐便器",
    "热水器", "维保", "困人", "停水", "停电", "停气", "充电桩", "充电棚", "电动车", "消防通道",
    "高空抛物", "群租", "车位", "月租", "装修押金", "维修基金", "快递柜", "垃圾分类", "大件垃圾",
    "返臭", "返水", "返潮", "渗水", "漏水", "空鼓", "承重墙", "防盗网", "封阳台", "道闸",
    "可视对讲", "人脸识别", "烟感", "灭火器", "消火栓", "化粪池", "二次供水", "水表", "电表",
    "电表箱", "配电箱", "总闸", "总阀", "角阀", "存水弯", "皮搋子", "转人工", "人工客服",
    "报修", "投诉", "缴费", "欠费", "账单", "发票", "滞纳金", "入住", "过户", "出租",
]  # fmt: skip

_ready = threading.Lock()
_initialised = False


def _jieba():
    global _initialised
    import jieba

    if not _initialised:
        with _ready:
            if not _initialised:
                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                for word in TRADE_WORDS:
                    jieba.add_word(word, freq=200000)
                _initialised = True
    return jieba


def normalise(text: str) -> str:
    """What the models read: no markup, full-width forms folded (ＡＢＣ１２３ → abc123), lower
    case, runs of spaces and repeated punctuation collapsed, at most ``MAX_CHARS``."""
    text = html.unescape(text or "")
    text = TAG.sub(" ", text)
    text = unicodedata.normalize("NFKC", text).lower()
    text = REPEAT.sub(r"\1", text)
    text = SPACE.sub(" ", text).strip()
    return text[:MAX_CHARS]


def has_words(text: str) -> bool:
    """Whether the text holds any Chinese character, letter or digit (not only emoji)."""
    return bool(WORD.search(normalise(text)))


def is_chinese(text: str) -> bool:
    return bool(CJK.search(text or ""))


def words(text: str) -> list[str]:
    """jieba words of the normalised text, without spaces and punctuation. The classifier's
    word analyser (module-level, so that a saved model can find it)."""
    jieba = _jieba()
    return [w for w in jieba.lcut(normalise(text)) if WORD.search(w)]


def chars(text: str) -> str:
    """The normalised text without spaces or punctuation: what character n-grams are made of."""
    return "".join(ch for ch in normalise(text) if WORD.match(ch))


@lru_cache(maxsize=1)
def synonyms() -> dict[str, str]:
    """Word → its canonical word, from ``data/synonyms.txt``."""
    table: dict[str, str] = {}
    for line in (DATA / "synonyms.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        group = line.split()
        for word in group:
            table.setdefault(word, group[0])
    return table


# Words that carry no meaning for retrieval. Question words (怎么, 哪里, 多少…) stay: "怎么交"
# and "要交吗" are different questions.
STOP_WORDS = (
    "的 了 吗 呢 吧 啊 呀 哦 嘛 么 是 我 我们 我家 家里 你 你们 您 请问 请 一下 想 问 问下 想问 下 "
    "这个 那个 有 没有 在 和 就 都 也 还 要 能 可以 会 好 谢谢 麻烦 帮 帮忙 一个 个 给 把 被 让 "
    "对 跟 与 或 及 等 上 中 之 为 又 才 呗 嗯"
)
STOP = frozenset(STOP_WORDS.split())
