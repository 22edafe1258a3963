"""The request classifier: the corpus it is trained on, the shipped model (size, accuracy on
the held-out test set, the plain-array heads matching scikit-learn), the emergency rules, the
command line (classify a CSV, train from corrections with before/after accuracy, versions,
rollback)."""

import csv
import io
from collections import Counter

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from anju.assistant import classifier, training
from anju.assistant.models import ClassifierCorrection, ClassifierVersion
from anju.servicedesk.defaults import CATEGORIES

LEAVES = {code for code, *_ in CATEGORIES if code not in ("repair", "complaint")}


def test_the_corpus_covers_every_category_and_keeps_the_test_set_apart():
    # given the training corpus and the test set shipped in the repository
    train, test = classifier.training_corpus(), classifier.test_corpus()
    counts = Counter(s.category for s in train)
    # then every leaf category of the service desk's default tree has at least 40 examples,
    # and texts too vague to route have their own class
    assert set(counts) == LEAVES | {classifier.REJECT}
    assert min(counts.values()) >= 40
    # and the test set covers them too, without a single text of the training corpus
    assert {s.category for s in test} == LEAVES
    assert not {s.text for s in train} & {s.text for s in test}
    assert {s.urgency for s in train} == {"urgent", "high", "normal", "low"}


def test_the_shipped_model_is_small_and_accurate_on_the_test_set():
    # given the model file shipped with Anju
    size = classifier.SHIPPED.stat().st_size
    model = classifier.load(classifier.SHIPPED)
    # when it reads the held-out test set
    result = classifier.evaluate(model, classifier.test_corpus())
    # then it is well under 50 MB and right far more often than chance
    assert size < 50 * 1024 * 1024
    assert result["accuracy"] >= 0.8 and result["macro_f1"] >= 0.8
    assert result["type_accuracy"] >= 0.9
    assert sum(map(sum, result["confusion"])) == result["n"] == 288


def test_plain_array_heads_give_scikit_learn_probabilities():
    # given a small model fitted with scikit-learn, and the same kept as plain arrays
    samples = classifier.training_corpus()[::4]
    union, category, _urgency = classifier.fit_sklearn(samples)
    model = classifier.train(samples)
    texts = [s.text for s in classifier.test_corpus()[:40]]
    # when both read the same texts
    theirs = category.predict_proba(union.transform(texts))
    ours = model.category.proba(model.features(texts))
    # then the probabilities agree
    assert np.allclose(theirs, ours, atol=1e-5)


def test_emergencies_are_urgent_and_a_model_file_round_trips(tmp_path):
    model = classifier.load(classifier.SHIPPED)
    trapped = model.predict_one("电梯困人了，我妈在里面出不来")
    assert trapped.category == "repair.elevator" and trapped.urgency == "urgent"
    assert model.predict_one("闻到很浓的煤气味").urgency == "urgent"
    assert model.predict_one("建议小区多种点花").urgency in ("low", "normal")
    # a saved model reads back the same
    sha, size = model.save(tmp_path / "m.npz")
    again = classifier.load(tmp_path / "m.npz")
    assert len(sha) == 64 and size > 0
    assert again.predict_one("马桶堵了").as_dict() == model.predict_one("马桶堵了").as_dict()


def test_a_file_of_another_format_is_refused(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, meta=np.array('{"format": 99}'))
    with pytest.raises(classifier.ModelMismatch):
        classifier.load(path)


# --- the command line ---------------------------------------------------------------------------
def _csv(tmp_path, rows, header=("subject", "body")):
    path = tmp_path / "in.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.mark.django_db
def test_classify_a_csv(tmp_path):
    # given a CSV with a subject and a text column, UTF-8 with a byte-order mark
    path = _csv(
        tmp_path, [("电梯", "电梯困人了快来"), ("", "楼上每天半夜拖桌子，吵得睡不着"), ("", "")]
    )
    out = io.StringIO()
    # when it is classified
    call_command("assistant", "classify", "--input", str(path), "--text-column", "body",
                 "--subject-column", "subject", stdout=out)  # fmt: skip
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    # then one CSV row per input row, numbered, with type, category, urgency, confidence
    assert rows[0] == ["row", "type", "category", "urgency", "confidence"]
    assert [r[0] for r in rows[1:]] == ["1", "2", "3"]
    assert rows[1][1:4] == ["repair", "repair.elevator", "urgent"]
    assert rows[2][1:3] == ["complaint", "complaint.noise"]
    assert all(0 <= float(r[4]) <= 1 for r in rows[1:])


@pytest.mark.django_db
def test_classify_refuses_an_unknown_column_or_file(tmp_path):
    path = _csv(tmp_path, [("a", "b")])
    with pytest.raises(CommandError, match="no column"):
        call_command("assistant", "classify", "--input", str(path), "--text-column", "text")
    with pytest.raises(CommandError, match="cannot read"):
        call_command("assistant", "classify", "--input", str(tmp_path / "missing.csv"),
                     "--text-column", "text")  # fmt: skip


@pytest.mark.django_db
def test_train_from_corrections_then_roll_back(world, settings, tmp_path):
    # given a data directory, and clerks' corrections: a made-up trade word the corpus never saw
    settings.DATA_DIR = tmp_path
    texts = [f"星光{i}号机坏了" for i in range(12)] + [f"星光机第{i}次报警" for i in range(12)]
    ClassifierCorrection.objects.bulk_create(
        ClassifierCorrection(
            company=world.company,
            text=t,
            from_category="repair.common",
            category_code="repair.elevator",
            priority="high",
        )
        for t in texts
    )
    out = io.StringIO()
    # when the classifier is retrained
    call_command("assistant", "train", "--holdout", "0.25", stdout=out)
    # then a version is saved and activated, with accuracy before and after on the held-out part
    report = out.getvalue()
    assert "before" in report and "after" in report and "v1" in report
    v1 = ClassifierVersion.objects.get()
    assert v1.is_active and v1.corrections == 18
    assert (tmp_path / "assistant" / v1.file_name).exists()
    held = v1.metrics["holdout"]
    assert held["after"]["n"] == 6 and held["after"]["accuracy"] >= held["before"]["accuracy"]
    assert held["after"]["accuracy"] == 1.0
    classifier.forget()
    assert classifier.active()[0] == 1
    assert classifier.classify("星光机又坏了")[1].category == "repair.elevator"
    # and the command line reads the shipped model unless asked for the active version
    path = _csv(tmp_path, [("", "星光机又坏了")])
    shipped, active = io.StringIO(), io.StringIO()
    call_command("assistant", "classify", "--input", str(path), "--text-column", "body",
                 stdout=shipped)  # fmt: skip
    call_command("assistant", "classify", "--input", str(path), "--text-column", "body",
                 "--active", stdout=active)  # fmt: skip
    assert active.getvalue().splitlines()[1].split(",")[2] == "repair.elevator"
    assert shipped.getvalue() != active.getvalue()
    # when it is rolled back, the shipped model is active again
    call_command("assistant", "rollback", stdout=io.StringIO())
    assert not ClassifierVersion.objects.filter(is_active=True).exists()
    assert classifier.active()[0] == 0
    # and rolling back further, or to a version that does not exist, is refused
    with pytest.raises(CommandError):
        call_command("assistant", "rollback")
    with pytest.raises(CommandError):
        call_command("assistant", "rollback", "--to", "9")
    call_command("assistant", "rollback", "--to", "1", stdout=io.StringIO())
    assert ClassifierVersion.objects.get(number=1).is_active
    listing = io.StringIO()
    call_command("assistant", "versions", stdout=listing)
    assert "* v1" in listing.getvalue()


@pytest.mark.django_db
def test_training_without_corrections_holds_out_the_test_set(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    result = training.retrain(activate="never")
    assert result.holdout_kind == "test set" and result.holdout_size == 288
    assert not result.version.is_active
    assert abs(result.after["accuracy"] - result.before["accuracy"]) < 0.02


def test_split_keeps_one_of_each_category():
    samples = [classifier.Sample(f"t{i}", "a" if i < 10 else "b", "normal") for i in range(12)]
    train, held = training.split(samples, 0.2, seed=1)
    assert {s.category for s in held} == {"a", "b"}
    assert len(train) + len(held) == 12
