"""Retraining the request classifier from the staff's corrections, versioning model files and
rolling back (``anju assistant train`` / ``rollback``)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from anju.assistant import classifier
from anju.assistant.classifier import Sample
from anju.assistant.models import ClassifierCorrection, ClassifierVersion


def model_dir() -> Path:
    return Path(settings.DATA_DIR) / "assistant" / "models"


@dataclass
class TrainResult:
    version: ClassifierVersion
    activated: bool
    before: dict
    after: dict
    holdout_size: int
    holdout_kind: str
    corrections: int


def correction_samples(company_id: int | None = None) -> list[Sample]:
    qs = ClassifierCorrection.objects.all()
    if company_id:
        qs = qs.filter(company_id=company_id)
    return [
        Sample(c.text, c.category_code, c.priority if c.priority in classifier.RANK else "normal")
        for c in qs.order_by("id")
    ]


def split(samples: list[Sample], share: float, seed: int) -> tuple[list[Sample], list[Sample]]:
    """A held-out share of each category (at least one when a category has two or more)."""
    rng = random.Random(seed)
    by_label: dict[str, list[Sample]] = {}
    for s in samples:
        by_label.setdefault(s.category, []).append(s)
    train, held = [], []
    for label in sorted(by_label):
        rows = by_label[label][:]
        rng.shuffle(rows)
        k = round(len(rows) * share)
        if len(rows) >= 2:
            k = max(1, k)
        held.extend(rows[:k])
        train.extend(rows[k:])
    return train, held


def _summary(metrics: dict) -> dict:
    return {k: metrics.get(k) for k in ("n", "accuracy", "macro_f1", "urgency_accuracy")}


def retrain(
    *,
    company_id: int | None = None,
    holdout: float = 0.2,
    seed: int = 7,
    activate: str = "if-better",
    user=None,
    note: str = "",
) -> TrainResult:
    """Train a new version on the corpus plus the corrections (all companies', or one's),
    holding out a share of the corrections: accuracy before (the active model) and after (the
    new one) on that held-out split — on the corpus's test set when there are no corrections.
    ``activate``: "always", "never" or "if-better" (not worse on the held-out split)."""
    corrections = correction_samples(company_id)
    train_corr, held = split(corrections, holdout, seed)
    held_kind = "corrections" if held else "test set"
    if not held:
        held = classifier.test_corpus()
    active_number, active_model = classifier.active()
    before = classifier.evaluate(active_model, held)
    model = classifier.train(
        classifier.training_corpus() + train_corr, note=note or "retrained with corrections"
    )
    after = classifier.evaluate(model, held)
    test_after = classifier.evaluate(model, classifier.test_corpus())
    with transaction.atomic():
        last = ClassifierVersion.objects.select_for_update().order_by("-number").first()
        number = (last.number if last else 0) + 1
        file_name = f"models/classifier-v{number}.npz"
        sha, size = model.save(model_dir() / f"classifier-v{number}.npz")
        better = after["accuracy"] >= before["accuracy"]
        activated = activate == "always" or (activate == "if-better" and better)
        if activated:
            ClassifierVersion.objects.filter(is_active=True).update(is_active=False)
        version = ClassifierVersion.objects.create(
            number=number,
            file_name=file_name,
            sha256=sha,
            size=size,
            samples=model.meta["samples"],
            corrections=len(train_corr),
            is_active=activated,
            note=note,
            created_by=user,
            metrics={
                "holdout": {"before": _summary(before), "after": _summary(after)},
                "holdout_kind": held_kind,
                "test": _summary(test_after),
                "previous": active_number,
            },
        )
    classifier.forget()
    return TrainResult(version, activated, before, after, len(held), held_kind, len(train_corr))


def rollback(*, to: int | None = None) -> int:
    """Activate version ``to`` (0: the shipped model), or the one before the active one.
    Returns the version now active."""
    current = ClassifierVersion.objects.filter(is_active=True).first()
    if to is None:
        if current is None:
            raise ValueError("the shipped model is active; there is nothing to roll back")
        earlier = (
            ClassifierVersion.objects.filter(number__lt=current.number).order_by("-number").first()
        )
        to = earlier.number if earlier else 0
    with transaction.atomic():
        if to == 0:
            ClassifierVersion.objects.filter(is_active=True).update(is_active=False)
        else:
            target = ClassifierVersion.objects.filter(number=to).first()
            if target is None:
                raise ValueError(f"there is no version {to}")
            if not (Path(settings.DATA_DIR) / "assistant" / target.file_name).exists():
                raise ValueError(f"the file of version {to} is missing: {target.file_name}")
            ClassifierVersion.objects.filter(is_active=True).update(is_active=False)
            ClassifierVersion.objects.filter(pk=target.pk).update(is_active=True)
    classifier.forget()
    return to
