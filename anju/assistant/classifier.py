"""The request classifier: Chinese text (subject + description) → request type, category code
of the service desk's tree and urgency, each with a confidence.

Features are TF-IDF over jieba words and over character 1–3-grams (typos and unknown words
still share characters); the category is a linear SVM with sigmoid-calibrated probabilities,
the urgency another one with balanced classes, raised by a few rules for the emergencies the
corpus has too few of (people trapped, fire, gas, a burst pipe). Trained from the corpus in
``data/corpus`` (written for this project) plus the staff's corrections; the shipped model is
``data/model/classifier.npz``. Retrained models are files under the data directory with a
``ClassifierVersion`` row each; the active one is loaded once per process.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
import re
import threading
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from anju.assistant.text import chars, words

logger = logging.getLogger("anju.assistant")

DATA = Path(__file__).resolve().parent / "data"
CORPUS = DATA / "corpus"
SHIPPED = DATA / "model" / "classifier.npz"
PRIORITIES = ("urgent", "high", "normal", "low")  # most urgent first
RANK = {p: i for i, p in enumerate(PRIORITIES)}
TYPES = {
    "repair": "repair",
    "complaint": "complaint",
    "consult": "consultation",
    "suggestion": "suggestion",
    "praise": "praise",
    "other": "other",
}
# The corpus's reject class: texts too vague to route ("帮我看看", "有个问题"). Never a desk
# category; a text read as "other" is left to a clerk.
REJECT = "other"

# Emergencies are rare in any corpus, and missing one costs most: these raise the urgency.
URGENT_RULES = re.compile(
    r"困人|被困|困在|关在.{0,6}(电梯|里面)|出不来|着火|起火|失火|冒烟|浓烟|烧焦|火花|火星|燃气味|煤气味|"
    r"天然气.{0,4}味|液化气.{0,4}味|漏气|爆(了|裂|管)|喷水|淹了|漫到|触电|救命|快来人|砸到人|"
    r"要掉下来|随时会掉|悬着|坠落|跳楼|动了?刀|打架|电梯.{0,8}(卡|停|坏).{0,10}(有人|人在里)"
)
HIGH_RULES = re.compile(
    r"全屋没电|整栋.{0,4}(停电|没电|没水)|都没电|都没水|全都没|停了.{0,6}(高层|老人)|"
    r"关不上.{0,8}(谁都能进|不安全)|漏到楼下|淹到|很危险|太危险|有危险|摇摇欲坠|受伤|被蛰|咬伤"
)


def type_of(category: str) -> str:
    return TYPES.get(category.split(".", 1)[0], "consultation")


@dataclass
class Sample:
    text: str
    category: str
    urgency: str

    @property
    def request_type(self) -> str:
        return type_of(self.category)


@dataclass
class Prediction:
    """What the classifier says about one text."""

    request_type: str
    category: str
    urgency: str
    confidence: float  # of the category
    urgency_confidence: float
    alternatives: list[tuple[str, float]] = field(default_factory=list)  # next categories

    def as_dict(self) -> dict:
        return {
            "type": self.request_type,
            "category": self.category,
            "urgency": self.urgency,
            "confidence": round(self.confidence, 4),
            "urgency_confidence": round(self.urgency_confidence, 4),
            "alternatives": [[c, round(p, 4)] for c, p in self.alternatives],
        }


def load_corpus(path: Path | str) -> list[Sample]:
    """Rows of a corpus CSV (``text,type,category,urgency``), UTF-8."""
    with open(path, encoding="utf-8", newline="") as fh:
        return [
            Sample(row["text"].strip(), row["category"].strip(), row["urgency"].strip())
            for row in csv.DictReader(fh)
            if row.get("text", "").strip() and row.get("category", "").strip()
        ]


def training_corpus() -> list[Sample]:
    return load_corpus(CORPUS / "train.csv")


def test_corpus() -> list[Sample]:
    return load_corpus(CORPUS / "test.csv")


def _features():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    return FeatureUnion(
        [
            ("words", TfidfVectorizer(analyzer=words, sublinear_tf=True)),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char", preprocessor=chars, ngram_range=(1, 3), sublinear_tf=True
                ),
            ),
        ]
    )


def _calibrated(balanced: bool, folds: int):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    svm = LinearSVC(C=0.5, class_weight="balanced" if balanced else None)
    return CalibratedClassifierCV(svm, cv=folds, method="sigmoid")


def _folds(labels: list[str]) -> int:
    """Calibration folds: 5, fewer if a label has fewer examples (at least 2)."""
    smallest = min(Counter(labels).values())
    return max(2, min(5, smallest))


@dataclass
class Head:
    """One calibrated linear classifier, as plain arrays: for each calibration fold an SVM
    (``coef`` F × (folds·C), ``intercept``) and per class a sigmoid (``a``, ``b``); the
    probability is the fold average of the per-class sigmoids, normalised over the classes —
    what scikit-learn's ``CalibratedClassifierCV(method="sigmoid")`` computes."""

    classes: list[str]
    coef: object  # numpy float32 (features, folds * classes)
    intercept: object  # (folds * classes,)
    a: object  # (folds * classes,)
    b: object

    @property
    def folds(self) -> int:
        return len(self.intercept) // max(1, len(self.classes))

    def proba(self, X):
        import numpy as np

        n_classes = len(self.classes)
        decision = np.asarray(X @ self.coef, dtype=np.float64) + self.intercept
        p = 1.0 / (1.0 + np.exp(self.a * decision + self.b))
        p = p.reshape(X.shape[0], self.folds, n_classes)
        if n_classes == 2:
            p[:, :, 0] = 1.0 - p[:, :, 1]
        else:
            total = p.sum(axis=2, keepdims=True)
            p = np.divide(p, total, out=np.full_like(p, 1.0 / n_classes), where=total != 0)
        return p.mean(axis=1)

    @classmethod
    def from_sklearn(cls, calibrated) -> Head:
        import numpy as np

        classes = [str(c) for c in calibrated.classes_]
        coefs, intercepts, a, b = [], [], [], []
        for fold in calibrated.calibrated_classifiers_:
            svm = fold.estimator
            coef = np.atleast_2d(svm.coef_)
            intercept = np.atleast_1d(svm.intercept_)
            if len(classes) == 2:  # one decision function, for the second class
                coef = np.vstack([np.zeros_like(coef[0]), coef[0]])
                intercept = np.array([0.0, intercept[0]])
                sig = [(0.0, 0.0), (fold.calibrators[0].a_, fold.calibrators[0].b_)]
            else:
                order = list(svm.classes_)
                assert order == list(calibrated.classes_)
                sig = [(c.a_, c.b_) for c in fold.calibrators]
            coefs.append(coef)
            intercepts.append(intercept)
            a.extend(s[0] for s in sig)
            b.extend(s[1] for s in sig)
        return cls(
            classes=classes,
            coef=np.vstack(coefs).T.astype(np.float32),
            intercept=np.concatenate(intercepts).astype(np.float64),
            a=np.array(a, dtype=np.float64),
            b=np.array(b, dtype=np.float64),
        )


@dataclass
class Vectoriser:
    """TF-IDF of one analyser (jieba words or character 1–3-grams), sublinear tf, L2 norm —
    what the fitted ``TfidfVectorizer`` computes, from its vocabulary and idf alone."""

    kind: str  # "words" | "chars"
    vocabulary: dict[str, int]
    idf: object

    def tokens(self, text: str) -> list[str]:
        if self.kind == "words":
            return words(text)
        s = chars(text)
        return [s[i : i + n] for n in (1, 2, 3) for i in range(len(s) - n + 1)]

    def rows(self, texts: list[str]):
        import numpy as np
        from scipy.sparse import csr_matrix

        data, indices, indptr = [], [], [0]
        for text in texts:
            counts = Counter(t for t in self.tokens(text) if t in self.vocabulary)
            cols = [self.vocabulary[t] for t in counts]
            vals = np.array([1.0 + np.log(c) for c in counts.values()]) * self.idf[cols]
            norm = np.sqrt((vals**2).sum())
            if norm > 0:
                vals = vals / norm
            indices.extend(cols)
            data.extend(vals.tolist())
            indptr.append(len(indices))
        return csr_matrix(
            (np.array(data, dtype=np.float64), np.array(indices, dtype=np.int64), indptr),
            shape=(len(texts), len(self.vocabulary)),
        )


class TextModel:
    """Word and character vectorisers and named heads, stored as plain arrays (no pickle)."""

    def __init__(self, vectorisers: list[Vectoriser], heads: dict[str, Head], meta: dict):
        self.vectorisers = vectorisers
        self.heads = heads
        self.meta = meta

    def features(self, texts: list[str]):
        from scipy.sparse import hstack

        return hstack([v.rows(texts) for v in self.vectorisers], format="csr")

    @classmethod
    def fit(cls, texts: list[str], labels: dict[str, list[str]], *, balanced=(), meta=None):
        """Fit the vectorisers on ``texts`` and one calibrated linear SVM per ``labels`` entry
        (class weights balanced for the names in ``balanced``)."""
        import numpy as np
        import sklearn

        started = time.perf_counter()
        union = _features()
        heads = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence chatter of the inner SVMs
            X = union.fit_transform(texts)
            for name, y in labels.items():
                fitted = _calibrated(name in balanced, _folds(y)).fit(X, y)
                heads[name] = Head.from_sklearn(fitted)
        vectorisers = [
            Vectoriser(
                name,
                {str(k): int(v) for k, v in vec.vocabulary_.items()},
                vec.idf_.astype(np.float64),
            )
            for name, vec in union.transformer_list
        ]
        meta = {
            "format": 1,
            "sklearn": sklearn.__version__,
            "samples": len(texts),
            "trained_seconds": round(time.perf_counter() - started, 1),
            **(meta or {}),
        }
        return cls(vectorisers, heads, meta)

    def save(self, path: Path) -> tuple[str, int]:
        """Write a compressed NumPy archive (loading it runs no code); return its SHA-256 and
        size in bytes."""
        import json

        import numpy as np

        arrays = {
            "meta": np.array(json.dumps(self.meta, ensure_ascii=False)),
            "heads": np.array(list(self.heads), dtype=str),
        }
        for v in self.vectorisers:
            arrays[f"{v.kind}_terms"] = np.array(
                sorted(v.vocabulary, key=v.vocabulary.get), dtype=str
            )
            arrays[f"{v.kind}_idf"] = v.idf
        for name, head in self.heads.items():
            arrays[f"{name}_classes"] = np.array(head.classes, dtype=str)
            for part in ("coef", "intercept", "a", "b"):
                arrays[f"{name}_{part}"] = getattr(head, part)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)
        tmp.replace(path)
        data = path.read_bytes()
        return hashlib.sha256(data).hexdigest(), len(data)

    @classmethod
    def load(cls, path: Path):
        import json

        import numpy as np

        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if meta.get("format") != 1:
                raise ModelMismatch(f"unknown model format {meta.get('format')}")
            vectorisers = [
                Vectoriser(
                    kind, {str(t): i for i, t in enumerate(z[f"{kind}_terms"])}, z[f"{kind}_idf"]
                )
                for kind in ("words", "chars")
            ]
            heads = {
                str(name): Head(
                    classes=[str(c) for c in z[f"{name}_classes"]],
                    coef=z[f"{name}_coef"],
                    intercept=z[f"{name}_intercept"],
                    a=z[f"{name}_a"],
                    b=z[f"{name}_b"],
                )
                for name in z["heads"]
            }
        return cls(vectorisers, heads, meta)


class Model(TextModel):
    """The request classifier: heads ``category`` and ``urgency``."""

    @property
    def category(self) -> Head:
        return self.heads["category"]

    @property
    def urgency(self) -> Head:
        return self.heads["urgency"]

    @property
    def categories(self) -> list[str]:
        return list(self.category.classes)

    def predict(self, texts: list[str]) -> list[Prediction]:
        if not texts:
            return []
        X = self.features(texts)
        cat_proba = self.category.proba(X)
        urg_proba = self.urgency.proba(X)
        cats, urgs = self.category.classes, self.urgency.classes
        out = []
        for text, cp, up in zip(texts, cat_proba, urg_proba, strict=True):
            order = cp.argsort()[::-1]
            category = cats[order[0]]
            ui = int(up.argmax())
            urgency, urgency_conf = urgs[ui], float(up[ui])
            rule = "urgent" if URGENT_RULES.search(text) else ""
            rule = rule or ("high" if HIGH_RULES.search(text) else "")
            if rule and RANK[rule] < RANK.get(urgency, 9):
                urgency, urgency_conf = rule, max(urgency_conf, 0.9)
            out.append(
                Prediction(
                    request_type=type_of(category),
                    category=category,
                    urgency=urgency,
                    confidence=float(cp[order[0]]),
                    urgency_confidence=urgency_conf,
                    alternatives=[(cats[i], float(cp[i])) for i in order[1:4]],
                )
            )
        return out

    def predict_one(self, text: str) -> Prediction:
        return self.predict([text])[0]


def fit_sklearn(samples: list[Sample]):
    """The scikit-learn estimators (features, category, urgency), for checking ``Head``."""
    texts = [s.text for s in samples]
    cats = [s.category for s in samples]
    urgs = [s.urgency if s.urgency in RANK else "normal" for s in samples]
    union = _features()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X = union.fit_transform(texts)
        category = _calibrated(False, _folds(cats)).fit(X, cats)
        urgency = _calibrated(True, _folds(urgs)).fit(X, urgs)
    return union, category, urgency


def train(samples: list[Sample], *, note: str = "") -> Model:
    """Fit the request classifier on ``samples``."""
    return Model.fit(
        [s.text for s in samples],
        {
            "category": [s.category for s in samples],
            "urgency": [s.urgency if s.urgency in RANK else "normal" for s in samples],
        },
        balanced=("urgency",),
        meta={"categories": sorted({s.category for s in samples}), "note": note},
    )


def evaluate(model: Model, samples: list[Sample]) -> dict:
    """Accuracy and macro-F1 of category, type and urgency; per-category precision, recall, F1
    and support; the confusion matrix (rows: true, columns: predicted)."""
    if not samples:
        return {"n": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # one label only in a small held-out split
        return _evaluate(model, samples)


def _evaluate(model: Model, samples: list[Sample]) -> dict:
    from sklearn.metrics import (
        accuracy_score,
        confusion_matrix,
        f1_score,
        precision_recall_fscore_support,
    )

    preds = model.predict([s.text for s in samples])
    y = [s.category for s in samples]
    p = [x.category for x in preds]
    labels = sorted(set(y) | set(p))
    prec, rec, f1, support = precision_recall_fscore_support(y, p, labels=labels, zero_division=0)
    yu, pu = [s.urgency for s in samples], [x.urgency for x in preds]
    yt, pt = [s.request_type for s in samples], [x.request_type for x in preds]
    return {
        "n": len(samples),
        "accuracy": float(accuracy_score(y, p)),
        "macro_f1": float(f1_score(y, p, labels=sorted(set(y)), average="macro", zero_division=0)),
        "type_accuracy": float(accuracy_score(yt, pt)),
        "urgency_accuracy": float(accuracy_score(yu, pu)),
        "urgency_macro_f1": float(f1_score(yu, pu, average="macro", zero_division=0)),
        "urgent_recall": _recall(yu, pu, "urgent"),
        "per_category": {
            label: {
                "precision": round(float(prec[i]), 3),
                "recall": round(float(rec[i]), 3),
                "f1": round(float(f1[i]), 3),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        "labels": labels,
        "confusion": confusion_matrix(y, p, labels=labels).tolist(),
        "mean_confidence": float(sum(x.confidence for x in preds) / len(preds)),
    }


def _recall(y: list[str], p: list[str], label: str) -> float | None:
    hits = [b == label for a, b in zip(y, p, strict=True) if a == label]
    return sum(hits) / len(hits) if hits else None


# --- files ---------------------------------------------------------------------------------------
def save(model: Model, path: Path) -> tuple[str, int]:
    return model.save(path)


def load(path: Path) -> Model:
    return Model.load(path)


class ModelMismatch(Exception):
    """The model file is not one this code can read."""


# --- the model of this process ---------------------------------------------------------------------
_lock = threading.Lock()
_current: dict = {"key": None, "model": None, "checked": 0.0}
RECHECK_SECONDS = 30.0


def _active_key() -> tuple[int, str]:
    """(version number, file path) of the active model; (0, shipped) without a DB row."""
    try:
        from anju.assistant.models import ClassifierVersion

        row = ClassifierVersion.objects.filter(is_active=True).values("number", "file_name").first()
    except Exception:  # noqa: BLE001 — no table yet (migrations), or no database: the shipped one
        row = None
    if row:
        return row["number"], row["file_name"]
    return 0, str(SHIPPED)


def _resolve(file_name: str) -> Path:
    path = Path(file_name)
    if path.is_absolute():
        return path
    from django.conf import settings

    return Path(settings.DATA_DIR) / "assistant" / path


def active() -> tuple[int, Model]:
    """The active model and its version number, loaded once per process; the database is asked
    at most every ``RECHECK_SECONDS`` whether another version was activated (train/rollback)."""
    now = time.monotonic()
    if _current["model"] is not None and now - _current["checked"] < RECHECK_SECONDS:
        return _current["key"][0], _current["model"]
    with _lock:
        key = _active_key()
        _current["checked"] = time.monotonic()
        if key != _current["key"] or _current["model"] is None:
            _current["model"] = _load_or_rebuild(key)
            _current["key"] = key
        return key[0], _current["model"]


def _load_or_rebuild(key: tuple[int, str]) -> Model:
    number, file_name = key
    path = SHIPPED if number == 0 else _resolve(file_name)
    try:
        return load(path)
    except (ModelMismatch, FileNotFoundError, OSError, KeyError, ValueError) as exc:
        if number != 0:
            logger.error("classifier v%s unreadable (%s); using the shipped model", number, exc)
            return _load_or_rebuild((0, str(SHIPPED)))
        logger.warning("shipped classifier unreadable (%s); training it from the corpus", exc)
        return train(training_corpus(), note="rebuilt at start-up")


def forget() -> None:
    """Drop the loaded model (after train/rollback in this process; in tests)."""
    with _lock:
        _current.update(key=None, model=None, checked=0.0)


def classify(text: str) -> tuple[int, Prediction]:
    version, model = active()
    return version, model.predict_one(text)
