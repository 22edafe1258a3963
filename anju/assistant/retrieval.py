"""Finding the knowledge entry that answers a question: BM25 over jieba terms (with the
trade's synonyms) and character bigrams, checked by a linear classifier trained on the
entries' own phrasings.

* BM25: a document is an entry's question (weight 3), its other phrasings and keywords
  (weight 2). Terms are jieba words mapped to their canonical synonym plus, at half weight,
  the character bigrams of the text (so 门卡刷不了 still meets 刷不开). The answer is not
  indexed: what residents ask resembles questions, not answers.
* The entry classifier: TF-IDF over words and character n-grams with a calibrated linear SVM,
  one class per entry, trained on its question, question + keywords, and each phrasing.
* Confidence: when both pick the same entry, the mean of the classifier's probability and
  BM25's coverage (the share of the question's term weight the entry holds, raised by the
  margin over the runner-up); when they disagree, a quarter of the lower one — a question
  two methods read differently is not answered from the knowledge base.

A community's own entry replaces the company's of the same key. The index of a company and
community is built once and rebuilt when an entry changes. BM25 is rebuilt at once (cheap);
the entry classifier (seconds to train) is shared by every index whose entries read the same
(e.g. the communities without entries of their own), kept when only answers change, stored in
the data directory for the next process (a restart reads it instead of training), and —
when a question or phrasing changed — retrained in a background thread while the previous
one goes on answering, so no resident waits for training after a clerk's edit.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
import warnings
from collections import Counter
from dataclasses import dataclass, field

from anju.assistant.text import STOP, is_chinese, normalise, synonyms, words

logger = logging.getLogger("anju.assistant")

K1 = 1.2
B = 0.3  # entries with many phrasings are long; they should not lose for it
BIGRAM_WEIGHT = 0.5
CJK = re.compile(r"[\u4e00-\u9fff]+")


def terms(text: str) -> Counter:
    """Weighted retrieval terms of a text."""
    table = synonyms()
    out: Counter = Counter()
    for w in words(text):
        canonical = table.get(w, w)
        if canonical in STOP:
            continue
        out[canonical] += 1
        if len(canonical) >= 3 and is_chinese(canonical):
            for i in range(len(canonical) - 1):
                out[canonical[i : i + 2]] += 1
    for segment in CJK.findall(normalise(text)):
        for i in range(len(segment) - 1):
            out["#" + segment[i : i + 2]] += BIGRAM_WEIGHT
    return out


@dataclass
class Doc:
    id: int
    slug: str
    kind: str
    question: str
    answer: str
    category_code: str
    texts: list[str] = field(default_factory=list)
    tf: Counter = field(default_factory=Counter)
    length: float = 0.0


@dataclass
class Hit:
    doc: Doc
    score: float
    coverage: float  # share of the question's term weight in the entry, raised by the margin


@dataclass
class Match:
    doc: Doc
    confidence: float
    bm25: Hit | None
    probability: float


class Index:
    def __init__(self, docs: list[Doc], model=None):
        self.docs = docs
        self.df: Counter = Counter()
        for d in docs:
            self.df.update(d.tf.keys())
        self.n = len(docs)
        self.avg_len = (sum(d.length for d in docs) / self.n) if self.n else 1.0
        self.model = model

    def idf(self, term: str) -> float:
        df = self.df.get(term, 0)
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))

    def search(self, text: str, k: int = 3) -> list[Hit]:
        """BM25 hits, best first."""
        query = terms(text)
        if not query or not self.docs:
            return []
        weights = {t: self.idf(t) * (n if t.startswith("#") else 1) for t, n in query.items()}
        total = sum(weights.values()) or 1.0
        scored = []
        for d in self.docs:
            score, covered = 0.0, 0.0
            norm = K1 * (1 - B + B * d.length / self.avg_len)
            for t, w in weights.items():
                f = d.tf.get(t)
                if f:
                    score += w * f * (K1 + 1) / (f + norm)
                    covered += w
            if score > 0:
                scored.append((score, covered / total, d))
        scored.sort(key=lambda s: (-s[0], s[2].id))
        hits = []
        for i, (score, coverage, d) in enumerate(scored[:k]):
            runner_up = scored[i + 1][0] if i + 1 < len(scored) else 0.0
            margin = 1 - runner_up / score if score else 0.0
            hits.append(Hit(d, score, min(1.0, coverage * (0.5 + margin))))
        return hits

    def best(self, text: str) -> Match | None:
        """The entry that answers ``text``, with how sure that is (0–1)."""
        hits = self.search(text, k=3)
        top = hits[0] if hits else None
        if self.model is None:
            return Match(top.doc, top.coverage, top, 0.0) if top else None
        head = self.model.heads["entry"]
        if top is not None and str(top.doc.id) not in head.classes:
            # An entry written since the classifier was trained (it is being retrained):
            # BM25 alone, as with a knowledge base too small for a classifier.
            return Match(top.doc, top.coverage, top, 0.0)
        proba = head.proba(self.model.features([normalise(text)]))[0]
        i = int(proba.argmax())
        p, slug_id = float(proba[i]), int(head.classes[i])
        chosen = next((d for d in self.docs if d.id == slug_id), None)
        if top is not None and chosen is not None and top.doc.id == chosen.id:
            return Match(chosen, (p + top.coverage) / 2, top, p)
        lower = min(p, top.coverage if top else 0.0)
        doc = chosen or (top.doc if top else None)
        return Match(doc, lower / 4, top, p) if doc else None


def signature(docs: list[Doc]) -> str:
    """What the entry classifier is trained on: the entries' ids and phrasings (not answers)."""
    digest = hashlib.sha256()
    for d in docs:
        digest.update(("\x1f".join([str(d.id), *d.texts]) + "\x1e").encode())
    return digest.hexdigest()


def _model_path(sig: str):
    from pathlib import Path

    from django.conf import settings

    return Path(settings.DATA_DIR) / "assistant" / "entries" / f"{sig[:40]}.npz"


def _stored_or_trained(docs: list[Doc], sig: str):
    """The entry classifier of these entries: from the data directory when a process trained
    it before (a restart then costs a file read, not seconds of training), else trained and
    stored there for the next process."""
    from anju.assistant.classifier import TextModel

    if len(docs) < 2:
        return None
    path = _model_path(sig)
    try:
        model = TextModel.load(path)
        if set(model.heads["entry"].classes) == {str(d.id) for d in docs}:
            return model
    except FileNotFoundError:
        pass
    except Exception as exc:  # noqa: BLE001 — unreadable or another format: train it again
        logger.warning("stored entry classifier %s unreadable (%s)", path.name, exc)
    model = _entry_model(docs)
    if model is not None:
        try:
            model.save(path)
            stored = sorted(path.parent.glob("*.npz"), key=lambda p: p.stat().st_mtime)
            for old in stored[:-_MAX_MODELS]:
                old.unlink(missing_ok=True)
        except OSError as exc:
            logger.warning("entry classifier not stored (%s)", exc)
    return model


def _entry_model(docs: list[Doc]):
    """The entry classifier (``None`` with fewer than two entries)."""
    if len(docs) < 2:
        return None
    from anju.assistant.classifier import TextModel

    texts, labels = [], []
    for d in docs:
        for t in d.texts:
            texts.append(t)
            labels.append(str(d.id))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return TextModel.fit(texts, {"entry": labels}, meta={"kind": "entries"})
    except ValueError as exc:  # e.g. every entry the same text: BM25 alone
        logger.warning("entry classifier not trained (%s)", exc)
        return None


def document(entry) -> Doc:
    tf: Counter = Counter()
    for text, weight in ((entry.question, 3), (entry.variants, 2), (entry.keywords, 2)):
        for t, n in terms(text or "").items():
            tf[t] += weight * n
    variants = [v.strip() for v in (entry.variants or "").splitlines() if v.strip()]
    question = entry.question or ""
    texts = [question, f"{question} {entry.keywords or ''}".strip(), *variants]
    return Doc(
        id=entry.pk,
        slug=entry.slug,
        kind=entry.kind,
        question=question,
        answer=entry.answer,
        category_code=entry.category_code,
        texts=texts,
        tf=tf,
        length=sum(tf.values()),
    )


_cache: dict[tuple[int, int | None], tuple[tuple, Index]] = {}
_lock = threading.Lock()
_models: dict[str, object] = {}  # signature → entry classifier (None: too few entries)
_training: set[str] = set()  # signatures being trained in the background
_MAX_MODELS = 32


def _remember(sig: str, model) -> None:
    _models[sig] = model
    while len(_models) > _MAX_MODELS:
        _models.pop(next(iter(_models)))


def _train_later(key: tuple[int, int | None], stamp: tuple, docs: list[Doc], sig: str) -> None:
    """Train the new entry classifier in a thread; the index built meanwhile keeps the previous
    one. Once trained, the index of ``key`` gets it (if the entries have not changed again)."""
    if sig in _training:
        return
    _training.add(sig)

    def work():
        try:
            model = _stored_or_trained(docs, sig)
            with _lock:
                _remember(sig, model)
                cached = _cache.get(key)
                if cached and cached[0] == stamp:
                    _cache[key] = (stamp, Index(cached[1].docs, model))
        except Exception:  # noqa: BLE001 — the previous classifier goes on answering
            logger.exception("training the entry classifier failed")
        finally:
            _training.discard(sig)

    threading.Thread(target=work, name="anju-assistant-entries", daemon=True).start()


def _background() -> bool:
    from django.conf import settings

    return getattr(settings, "ANJU_ASSISTANT_TRAIN_IN_BACKGROUND", True)


def index_for(company_id: int, community_id: int | None) -> Index:
    """The index of the published entries a community's residents may be answered from."""
    from django.db.models import Count, Max, Q

    from anju.assistant.models import FaqEntry

    entries = FaqEntry.objects.filter(company_id=company_id, is_published=True).filter(
        Q(community__isnull=True) | Q(community_id=community_id)
    )
    stamp_row = entries.aggregate(n=Count("id"), at=Max("updated_at"))
    stamp = (stamp_row["n"], stamp_row["at"])
    key = (company_id, community_id)
    cached = _cache.get(key)
    if cached and cached[0] == stamp:
        return cached[1]
    with _lock:
        cached = _cache.get(key)
        if cached and cached[0] == stamp:
            return cached[1]
        rows = list(entries.order_by("id"))
        own = {e.slug for e in rows if e.community_id and e.slug}
        rows = [e for e in rows if e.community_id or not e.slug or e.slug not in own]
        docs = [document(e) for e in rows]
        sig = signature(docs)
        if sig in _models:
            model = _models[sig]
        elif cached and cached[1].model is not None and _background():
            # The entries' phrasings changed: answer with the previous classifier (its
            # choices are checked against the new BM25 index) until the new one is trained.
            model = cached[1].model
            _train_later(key, stamp, docs, sig)
        else:
            model = _stored_or_trained(docs, sig)
            _remember(sig, model)
        index = Index(docs, model)
        _cache[key] = (stamp, index)
    return index


def forget() -> None:
    with _lock:
        _cache.clear()
        _models.clear()
