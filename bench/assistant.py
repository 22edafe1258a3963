#!/usr/bin/env python
"""Benchmarks of the assistant (智能客服) and the request classifier: the figures of
docs/assistant.md.

    .venv/bin/python bench/assistant.py [--sweep] [--database-url URL] [--keep]

Prints what it does as it goes and, as its last line, one JSON object of the figures:

* ``classifier_accuracy``, ``classifier_macro_f1``: the shipped classifier on the labelled test
  set ``anju/assistant/data/corpus/test.csv`` (written apart from the training corpus), with the
  per-category report and the confusion matrix printed above; type and urgency accuracy, the
  urgent recall, and how many test texts a resident leaving the category to the desk would have
  routed automatically (confidence ≥ ``AUTO_ROUTE``) and how many of those were right.
* ``containment``, ``wrong_answer_rate``, ``answer_top1``: the assistant on the question set
  ``anju/assistant/data/eval/questions.csv`` (≥ 200 colloquial questions with the expected
  intent or knowledge entry, written apart from the knowledge base and the intent corpus),
  asked by the demo resident of a freshly seeded ``anju demo`` database, each in a new
  conversation through the real service (``message_send``: database writes, hand-off requests
  filed). *Containment*: share of questions answered without a person (answered, refused, or a
  request collected in the chat). *Wrong answer rate*: share of the contained answers that are
  wrong (wrong intent, wrong entry, or answered where a person was expected). *Top-1*: share of
  the answerable questions whose best guess, before any confidence threshold, is right.
* ``p95_ms``: 95th percentile of the time of one message through ``message_send`` (reading,
  answering, storing both messages; hand-offs include filing the request), without an LLM, as
  in production: with a broker, so that the service desk's after-submit work (automatic
  dispatch, text messages) goes to workers. ``p95_inline_ms``: the same in the embedded mode of
  ``anju demo`` (no broker: a hand-off also dispatches its request inline).
  ``engine_p95_ms``: the assistant's reading and answer alone. ``cold_start_ms``: the three
  warm-up messages of a fresh process (first question, a bill, a hand-off), not in the p95.
* ``model_mb``, ``model_load_ms``: the shipped classifier file and the time to load it.

``--sweep`` also prints the threshold sweeps the thresholds were chosen from — on development
data only (the intent corpus's knowledge questions; 5-fold cross-validation of the classifier on
its training corpus), never on the two test sets. ``--database-url`` seeds and measures a fresh
PostgreSQL database instead of SQLite (its name must contain ``bench``). Results are also written
to ``bench/out/``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
OUT_DIR = REPO / "bench" / "out"
DATA = REPO / "anju" / "assistant" / "data"
GOALS = {  # key: (limit, kind "min"/"max")
    "containment": (0.80, "min"),
    "wrong_answer_rate": (0.05, "max"),
    "p95_ms": (50.0, "max"),
    "model_mb": (50.0, "max"),
}


def say(message: str = "") -> None:
    print(message, flush=True)


def pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


# --- the classifier (no database) ----------------------------------------------------------------
def bench_classifier(sweep: bool) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anju.settings")
    import django

    django.setup()
    from anju.assistant import classifier
    from anju.assistant.services import AUTO_ROUTE

    say("== classifier: the shipped model on the held-out test set")
    started = time.perf_counter()
    model = classifier.load(classifier.SHIPPED)
    load_ms = (time.perf_counter() - started) * 1000
    test = classifier.test_corpus()
    train = classifier.training_corpus()
    r = classifier.evaluate(model, test)
    say(
        f"  {len(train)} training texts, {r['n']} test texts, {len(r['labels'])} categories; "
        f"model {classifier.SHIPPED.stat().st_size / 1e6:.1f} MB, loaded in {load_ms:.0f} ms"
    )
    say(
        f"  accuracy {r['accuracy']:.3f}  macro-F1 {r['macro_f1']:.3f}  type accuracy "
        f"{r['type_accuracy']:.3f}  urgency accuracy {r['urgency_accuracy']:.3f} (macro-F1 "
        f"{r['urgency_macro_f1']:.3f}, urgent recall {pct(r['urgent_recall'])})"
    )
    say(f"  {'category':26}{'P':>6}{'R':>6}{'F1':>6}{'n':>5}")
    for label, row in r["per_category"].items():
        say(
            f"  {label:26}{row['precision']:>6.2f}{row['recall']:>6.2f}{row['f1']:>6.2f}"
            f"{row['support']:>5}"
        )
    say("  confusion matrix (rows: true, columns: predicted, in the order above)")
    for label, row in zip(r["labels"], r["confusion"], strict=True):
        say(f"  {label[-12:]:>12} " + " ".join(f"{v:>2}" if v else " ." for v in row))
    preds = model.predict([s.text for s in test])
    routed = [(p, s) for p, s in zip(preds, test, strict=True) if p.confidence >= AUTO_ROUTE]
    routed_ok = sum(p.category == s.category for p, s in routed)
    say(
        f"  auto-route at confidence ≥ {AUTO_ROUTE}: {len(routed)} of {len(test)} texts "
        f"({pct(len(routed) / len(test))}), {pct(routed_ok / len(routed) if routed else None)} "
        "of them right; the rest go to a clerk"
    )
    times = []
    for s in test:
        t = time.perf_counter()
        model.predict_one(s.text)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    out = {
        "classifier_accuracy": round(r["accuracy"], 4),
        "classifier_macro_f1": round(r["macro_f1"], 4),
        "classifier_type_accuracy": round(r["type_accuracy"], 4),
        "classifier_urgency_accuracy": round(r["urgency_accuracy"], 4),
        "classifier_urgent_recall": r["urgent_recall"],
        "classifier_test_n": r["n"],
        "classifier_train_n": len(train),
        "classifier_categories": len(r["labels"]),
        "auto_route_threshold": AUTO_ROUTE,
        "auto_route_share": round(len(routed) / len(test), 4),
        "auto_route_accuracy": round(routed_ok / len(routed), 4) if routed else None,
        "classify_p95_ms": round(times[int(len(times) * 0.95)], 2),
        "model_mb": round(classifier.SHIPPED.stat().st_size / 1e6, 2),
        "model_load_ms": round(load_ms, 1),
        "per_category": r["per_category"],
        "confusion": {"labels": r["labels"], "matrix": r["confusion"]},
    }
    if sweep:
        out["auto_route_sweep"] = sweep_auto_route(train)
    return out


def sweep_auto_route(train) -> list[dict]:
    """5-fold cross-validation on the training corpus: precision and share routed per
    threshold (how ``AUTO_ROUTE`` was chosen)."""
    import random

    from anju.assistant import classifier

    say("  sweep: auto-route threshold, 5-fold cross-validation on the training corpus")
    rows = train[:]
    random.Random(3).shuffle(rows)
    folds = [rows[i::5] for i in range(5)]
    scored = []
    for i in range(5):
        model = classifier.train([s for j, f in enumerate(folds) if j != i for s in f])
        for p, s in zip(model.predict([s.text for s in folds[i]]), folds[i], strict=True):
            scored.append((p.confidence, p.category == s.category))
    table = []
    for t in (0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8):
        chosen = [ok for c, ok in scored if c >= t]
        row = {
            "threshold": t,
            "routed": round(len(chosen) / len(scored), 3),
            "precision": round(sum(chosen) / len(chosen), 3) if chosen else None,
        }
        table.append(row)
        say(f"    ≥ {t:.2f}: routed {pct(row['routed'])}, right {pct(row['precision'])}")
    return table


# --- the assistant (a seeded demo database, in a child process) ------------------------------------
def child_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "ANJU_BROKER_URL", "ANJU_LLM_BASE_URL"):
        env.pop(name, None)
    env["ANJU_DATA_DIR"] = str(data_dir)
    env["PYTHONUNBUFFERED"] = "1"
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def pg_database(url: str, *, create: bool) -> str:
    import dj_database_url
    import psycopg
    from psycopg import sql

    config = dj_database_url.parse(url)
    name = config["NAME"]
    if "bench" not in name:
        raise SystemExit(f"refusing to use {name!r}: the database name must contain 'bench'")
    params = {
        k: config.get(v) or None
        for k, v in (("host", "HOST"), ("port", "PORT"), ("user", "USER"), ("password", "PASSWORD"))
    }
    with psycopg.connect(
        dbname="postgres", autocommit=True, **{k: v for k, v in params.items() if v}
    ) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        if create:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name


def bench_assistant(work: Path, database_url: str | None, sweep: bool) -> dict:
    data_dir = work / "data"
    data_dir.mkdir()
    env = child_env(data_dir, database_url)
    log = work / "demo.log"
    say("== assistant: seeding a fresh demo database (anju demo --no-serve)")
    started = time.perf_counter()
    with log.open("wb") as out:
        code = subprocess.run(
            [sys.executable, "-m", "anju.cli", "demo", "--no-serve"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=data_dir,
            timeout=900,
        ).returncode
    if code != 0:
        raise SystemExit(f"anju demo failed; see {log}")
    say(f"  seeded in {time.perf_counter() - started:.1f} s")
    # As in production: a broker takes the after-submit work (automatic dispatch, text messages)
    # to workers; "memory://" queues it in the process and nothing runs it.
    results = _measure(env | {"ANJU_BROKER_URL": "memory://"}, data_dir, sweep=sweep)
    say("== assistant: the same questions in the embedded mode (no broker: dispatch inline)")
    results.update(_measure(env, data_dir, inline=True))
    return results


def _measure(env: dict, data_dir: Path, *, sweep: bool = False, inline: bool = False) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--measure"]
    cmd += ["--sweep"] if sweep else []
    cmd += ["--inline"] if inline else []
    proc = subprocess.run(cmd, env=env, cwd=data_dir, capture_output=True, text=True, timeout=1800)
    sys.stdout.write("\n".join(proc.stdout.splitlines()[:-1]) + "\n")
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit("the measurement failed")
    return json.loads(proc.stdout.splitlines()[-1])


def load_questions() -> list[dict]:
    with open(DATA / "eval" / "questions.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def measure_in_process(sweep: bool, inline: bool = False) -> dict:
    """Ask every question as the demo resident; score and time the answers."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "anju.settings"
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection

    from anju.assistant import engine, intents, retrieval, services
    from anju.assistant.models import FaqEntry
    from anju.estates.scoping import scope_for

    user = get_user_model().objects.get(username="resident")
    scope = scope_for(user)
    conversation = services.conversation_start(scope=scope)
    company_id, community_id = conversation.company_id, conversation.community_id
    slugs = dict(FaqEntry.objects.filter(company_id=company_id).values_list("id", "slug"))
    # Warm up, as a server that has served a few requests: the models and the index loaded
    # (once per process), the URLconf imported, a hand-off filed (the broker connected). The
    # first of these is the cold start a resident meets after a restart: reported apart.
    from django.urls import reverse

    cold = []
    for text in ("物业费怎么交", "我家还欠多少钱", "我要找经理谈谈赔偿的事情"):
        started = time.perf_counter()
        services.message_send(scope=scope, text=text, conversation=conversation)
        cold.append(round((time.perf_counter() - started) * 1000, 1))
        reverse("console")
    index = retrieval.index_for(company_id, community_id)  # built by the first question
    questions = load_questions()
    say(
        f"== assistant: {len(questions)} questions as the demo resident "
        f"({connection.vendor}; {len(slugs)} knowledge entries)"
    )
    rows, times, engine_times = [], [], []
    for q in questions:
        text, entries = q["question"], set(filter(None, q["entry"].split("|")))
        expected = set(q["intent"].split("|"))
        conversation = services.conversation_start(scope=scope)
        started = time.perf_counter()
        conversation, _asked, reply = services.message_send(
            scope=scope, text=text, conversation=conversation
        )
        times.append((time.perf_counter() - started) * 1000)
        slug = slugs.get(reply.faq_entry_id, "")
        contained = reply.outcome in ("answered", "refused", "flow")
        right = (
            ("knowledge" in expected and slug in entries)
            or ("handoff" in expected and reply.outcome == "handed_off")
            or ("submit" in expected and reply.intent == "submit")
            or bool(expected & {reply.intent} - {"knowledge", "handoff", "submit"})
        )
        if "knowledge" in expected:
            best = index.best(text)
            top1 = best is not None and best.doc.slug in entries
        else:
            top1 = intents.read(text).intent in expected
        rows.append(
            {
                "q": text,
                "expected": "|".join(sorted(expected)),
                "entries": sorted(entries),
                "intent": reply.intent,
                "outcome": reply.outcome,
                "entry": slug,
                "confidence": reply.confidence,
                "contained": contained,
                "right": right,
                "top1": top1,
            }
        )
    if inline:
        times.sort()
        say(
            f"  p95 {times[int(len(times) * 0.95)]:.1f} ms, median {statistics.median(times):.1f} ms"
        )
        return {
            "p95_inline_ms": round(times[int(len(times) * 0.95)], 1),
            "median_inline_ms": round(statistics.median(times), 1),
        }
    # The engine alone (no storing), same questions, fresh contexts.
    ctx_conv = services.conversation_start(scope=scope)
    for q in questions:
        ctx = engine.Context(
            scope=scope,
            user=user,
            company=ctx_conv.community.company,
            community=ctx_conv.community,
            resident=ctx_conv.resident,
            rooms=services._rooms(scope),
            flow={},
        )
        if "handoff" in q["intent"]:
            continue  # would file another request
        started = time.perf_counter()
        engine.answer(ctx, q["question"])
        engine_times.append((time.perf_counter() - started) * 1000)
    contained = [r for r in rows if r["contained"]]
    wrong = [r for r in contained if not r["right"]]
    answerable = [r for r in rows if r["expected"] != "handoff"]
    handoff_rows = [r for r in rows if "handoff" in r["expected"]]
    say(f"  {'expected':<10}{'n':>4}{'contained':>11}{'right':>8}{'top-1':>8}")
    for kind in ("bill", "status", "notices", "contacts", "submit", "knowledge", "handoff",
                 "greeting", "refuse"):  # fmt: skip
        group = [r for r in rows if kind in r["expected"].split("|")]
        if group:
            say(
                f"  {kind:<10}{len(group):>4}{pct(sum(r['contained'] for r in group) / len(group)):>11}"
                f"{pct(sum(r['right'] for r in group) / len(group)):>8}"
                f"{pct(sum(r['top1'] for r in group) / len(group)):>8}"
            )
    say("  wrong answers and unexpected hand-offs:")
    for r in rows:
        if (r["contained"] and not r["right"]) or (
            "handoff" not in r["expected"] and not r["contained"]
        ):
            mark = "WRONG" if r["contained"] else "not answered"
            say(
                f"    [{mark}] {r['q']} → {r['intent']}/{r['outcome']} {r['entry']} "
                f"(expected {r['expected']} {','.join(r['entries'])})"
            )
    times.sort()
    engine_times.sort()
    out = {
        "database": connection.vendor,
        "questions": len(rows),
        "containment": round(len(contained) / len(rows), 4),
        "wrong_answer_rate": round(len(wrong) / len(contained), 4) if contained else None,
        "answer_top1": round(sum(r["top1"] for r in answerable) / len(answerable), 4),
        "answered_right": round(sum(r["right"] and r["contained"] for r in rows) / len(rows), 4),
        "handoff_expected_handed_off": round(
            sum(r["outcome"] == "handed_off" for r in handoff_rows) / max(1, len(handoff_rows)), 4
        ),
        "p95_ms": round(times[int(len(times) * 0.95)], 1),
        "cold_start_ms": cold,
        "median_ms": round(statistics.median(times), 1),
        "max_ms": round(times[-1], 1),
        "engine_p95_ms": round(engine_times[int(len(engine_times) * 0.95)], 1),
        "engine_median_ms": round(statistics.median(engine_times), 1),
        "rows": rows,
    }
    if sweep:
        out["kb_sweep"] = sweep_knowledge(index)
    return out


def sweep_knowledge(index) -> list[dict]:
    """On the development questions (the intent corpus's knowledge questions, labelled with
    their entry): share answered and share wrong per knowledge-base confidence threshold — how
    ``KB_MIN`` was chosen."""
    from anju.assistant import intents

    rows = [r for r in intents.load_corpus() if r[1] == "knowledge"]
    scored = []
    for text, _intent, slug in rows:
        m = index.best(text)
        scored.append((m.confidence if m else 0.0, bool(m) and m.doc.slug == slug))
    say(f"  sweep: knowledge-base threshold on {len(rows)} development questions")
    table = []
    for t in (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5):
        chosen = [ok for c, ok in scored if c >= t]
        row = {
            "threshold": t,
            "answered": round(len(chosen) / len(scored), 3),
            "wrong": round(1 - sum(chosen) / len(chosen), 3) if chosen else None,
        }
        table.append(row)
        say(f"    ≥ {t:.2f}: answered {pct(row['answered'])}, wrong {pct(row['wrong'])}")
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sweep", action="store_true", help="print the threshold sweeps")
    parser.add_argument("--database-url", help="seed and measure this PostgreSQL database")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--inline", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:  # child mode: the seeded database comes from the environment
        print(
            json.dumps(measure_in_process(args.sweep, args.inline), ensure_ascii=False), flush=True
        )
        return 0

    work = Path(tempfile.mkdtemp(prefix="anju-bench-assistant-"))
    say(f"Anju assistant benchmark; work dir {work}")
    say(f"  {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    total = time.perf_counter()
    results: dict = {"cpus": os.cpu_count()}
    results.update(bench_classifier(args.sweep))
    pg = False
    try:
        if args.database_url:
            pg_database(args.database_url, create=True)
            pg = True
        results.update(bench_assistant(work, args.database_url, args.sweep))
    finally:
        if pg and not args.keep:
            pg_database(args.database_url, create=False)
    results["bench_s"] = round(time.perf_counter() - total, 1)
    say("== figures")
    missed = []
    for key, (limit, kind) in GOALS.items():
        value = results.get(key)
        ok = value is not None and (value >= limit if kind == "min" else value <= limit)
        missed += [] if ok else [key]
        say(f"  {key:<20} {value!s:>8}  goal {'≥' if kind == 'min' else '≤'} {limit}: "
            f"{'ok' if ok else 'MISSED'}")  # fmt: skip
    results["goals_met"] = not missed
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (OUT_DIR / f"assistant-{stamp}.json").write_text(
        json.dumps(results, indent=2, ensure_ascii=False) + "\n"
    )
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        say(f"(work directory kept: {work})")
    summary = {k: v for k, v in results.items() if k not in ("rows", "per_category", "confusion")}
    summary = {k: v for k, v in summary.items() if not k.endswith("_sweep")}
    print(json.dumps(summary, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
