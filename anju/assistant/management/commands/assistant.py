"""``anju assistant <command>``: the request classifier from the command line.

anju assistant classify --input FILE.csv --text-column COL [--subject-column COL] [--active]
anju assistant train [--company ID] [--holdout 0.2] [--activate if-better|always|never]
anju assistant rollback [--to N]        (0: the model shipped with Anju)
anju assistant versions
anju assistant evaluate [--input FILE.csv]
anju assistant build                     (rebuild the shipped models from the corpus)
"""

from __future__ import annotations

import argparse
import csv
import sys

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "The assistant's request classifier: classify a CSV, retrain, roll back, list versions."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="command")
        p = sub.add_parser("classify", help="print CSV row,type,category,urgency,confidence")
        p.add_argument("--input", required=True, help="UTF-8 CSV file ('-' for standard input)")
        p.add_argument("--text-column", required=True)
        p.add_argument("--subject-column", default="")
        # Outside evaluation reads the model shipped with Anju; ``--active`` reads the version
        # this installation retrained and activated (``train``/``rollback``).
        p.add_argument("--active", action="store_true", help="use the active retrained version")
        p.add_argument("--shipped", action="store_true", help=argparse.SUPPRESS)
        p = sub.add_parser("train", help="retrain from the corpus and staff corrections")
        p.add_argument("--company", type=int, default=None, help="only this company's corrections")
        p.add_argument("--holdout", type=float, default=0.2)
        p.add_argument("--seed", type=int, default=7)
        p.add_argument("--activate", choices=["if-better", "always", "never"], default="if-better")
        p.add_argument("--note", default="")
        p = sub.add_parser("rollback", help="activate an earlier version")
        p.add_argument(
            "--to", type=int, default=None, help="version number; 0 is the shipped model"
        )
        sub.add_parser("versions", help="list the model versions")
        p = sub.add_parser("evaluate", help="accuracy and macro-F1 on a labelled CSV")
        p.add_argument("--input", default="", help="text,type,category,urgency (default: test set)")
        p.add_argument("--json", action="store_true")
        sub.add_parser("build", help="train the shipped classifier and intent models")

    def handle(self, *args, action, **options):
        getattr(self, f"do_{action}")(**options)

    # --- classify --------------------------------------------------------------------------------
    def do_classify(self, *, input, text_column, subject_column, active, **_):
        from anju.assistant import classifier

        model = classifier.active()[1] if active else classifier.load(classifier.SHIPPED)
        try:
            handle = sys.stdin if input == "-" else open(input, encoding="utf-8-sig", newline="")  # noqa: SIM115 — closed below
        except OSError as exc:
            raise CommandError(f"cannot read {input}: {exc}") from exc
        with handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            for column in filter(None, (text_column, subject_column)):
                if column not in columns:
                    raise CommandError(
                        f"no column {column!r} in {input} (has: {', '.join(columns)})"
                    )
            out = csv.writer(self.stdout, lineterminator="\n")
            out.writerow(["row", "type", "category", "urgency", "confidence"])
            batch: list[tuple[int, str]] = []
            for number, row in enumerate(reader, start=1):
                text = (row.get(text_column) or "").strip()
                subject = (row.get(subject_column) or "").strip() if subject_column else ""
                batch.append((number, f"{subject}\n{text}".strip()))
                if len(batch) == 256:
                    self._write(out, model, batch)
                    batch = []
            self._write(out, model, batch)

    def _write(self, out, model, batch):
        if not batch:
            return
        for (number, _text), p in zip(batch, model.predict([t for _n, t in batch]), strict=True):
            out.writerow([number, p.request_type, p.category, p.urgency, f"{p.confidence:.4f}"])

    # --- train / rollback / versions ---------------------------------------------------------------
    def do_train(self, *, company, holdout, seed, activate, note, **_):
        from anju.assistant.training import retrain

        if not 0 < holdout < 1:
            raise CommandError("--holdout must be between 0 and 1")
        self.stdout.write("Training on the corpus and the staff's corrections…")
        result = retrain(
            company_id=company, holdout=holdout, seed=seed, activate=activate, note=note
        )
        v, b, a = result.version, result.before, result.after
        self.stdout.write(
            f"Corrections used for training: {result.corrections}; held out: "
            f"{result.holdout_size} ({result.holdout_kind})"
        )
        self.stdout.write(f"{'':24}{'before':>10}{'after':>10}")
        for key, label in (
            ("accuracy", "category accuracy"),
            ("macro_f1", "category macro-F1"),
            ("urgency_accuracy", "urgency accuracy"),
        ):
            self.stdout.write(f"{label:24}{b.get(key, 0):>10.3f}{a.get(key, 0):>10.3f}")
        state = "active" if result.activated else "kept inactive"
        self.stdout.write(
            self.style.SUCCESS(f"Saved version v{v.number} ({v.size / 1e6:.1f} MB, {state}).")
        )

    def do_rollback(self, *, to, **_):
        from anju.assistant.training import rollback

        try:
            now = rollback(to=to)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        label = "the shipped model (v0)" if now == 0 else f"v{now}"
        self.stdout.write(self.style.SUCCESS(f"Active classifier: {label}."))

    def do_versions(self, **_):
        from anju.assistant.models import ClassifierVersion

        rows = list(ClassifierVersion.objects.order_by("number"))
        active = next((r for r in rows if r.is_active), None)
        self.stdout.write(f"{'*' if active is None else ' '} v0  shipped with Anju")
        for r in rows:
            acc = (r.metrics.get("holdout", {}).get("after") or {}).get("accuracy")
            self.stdout.write(
                f"{'*' if r.is_active else ' '} v{r.number:<3} {r.created_at:%Y-%m-%d %H:%M}  "
                f"{r.samples} samples, {r.corrections} corrections, held-out accuracy "
                f"{acc if acc is None else f'{acc:.3f}'}  {r.note}"
            )

    # --- evaluate / build --------------------------------------------------------------------------
    def do_evaluate(self, *, input, **options):
        import json as jsonlib

        from anju.assistant import classifier

        samples = classifier.load_corpus(input) if input else classifier.test_corpus()
        version, model = classifier.active()
        result = classifier.evaluate(model, samples)
        if options.get("json"):
            self.stdout.write(jsonlib.dumps(result, ensure_ascii=False))
            return
        self.stdout.write(
            f"v{version} on {result['n']} texts: accuracy {result['accuracy']:.3f}, macro-F1 "
            f"{result['macro_f1']:.3f}, type accuracy {result['type_accuracy']:.3f}, urgency "
            f"accuracy {result['urgency_accuracy']:.3f}"
        )
        for label, row in result["per_category"].items():
            self.stdout.write(
                f"  {label:26} P {row['precision']:.2f}  R {row['recall']:.2f}  "
                f"F1 {row['f1']:.2f}  n={row['support']}"
            )

    def do_build(self, **_):
        from anju.assistant import classifier, intents

        model = classifier.train(classifier.training_corpus(), note="shipped")
        result = classifier.evaluate(model, classifier.test_corpus())
        model.meta["test"] = {k: round(result[k], 4) for k in ("accuracy", "macro_f1")}
        sha, size = model.save(classifier.SHIPPED)
        self.stdout.write(
            f"{classifier.SHIPPED.name}: {size / 1e6:.1f} MB, test accuracy "
            f"{result['accuracy']:.3f}, macro-F1 {result['macro_f1']:.3f} (sha256 {sha[:12]})"
        )
        intent_model = intents.train()
        sha, size = intent_model.save(intents.SHIPPED)
        self.stdout.write(f"{intents.SHIPPED.name}: {size / 1e6:.1f} MB (sha256 {sha[:12]})")
        classifier.forget()
