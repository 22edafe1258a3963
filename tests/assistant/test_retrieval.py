"""The knowledge-base index: one entry classifier per set of phrasings (shared by communities
with the same entries, kept when only answers change), and after a clerk's edit a new one
trained in the background while the previous one — and BM25 for entries it has not seen —
goes on answering."""

import threading
from datetime import timedelta

import pytest
import time_machine

from anju.assistant import retrieval, services
from anju.assistant.choices import KnowledgeKind
from anju.assistant.models import FaqEntry
from tests.assistant.conftest import NOW, as_, ask

pytestmark = pytest.mark.django_db


def _join_training():
    for thread in threading.enumerate():
        if thread.name == "anju-assistant-entries":
            thread.join(timeout=120)


def test_communities_with_the_same_entries_share_one_classifier(kb):
    # given two communities of A without entries of their own
    a = retrieval.index_for(kb.company.pk, kb.community_a.pk)
    b = retrieval.index_for(kb.company.pk, kb.community_b.pk)
    # then their indexes share one trained entry classifier
    assert a is not b and a.model is not None and a.model is b.model


def test_an_answer_edit_keeps_the_classifier_and_serves_the_new_answer(kb):
    # given the index of A
    before = retrieval.index_for(kb.company.pk, kb.community_a.pk)
    entry = FaqEntry.objects.get(company=kb.company, slug="fees.invoice")
    # when, a minute later (the index notices changes by their time), a company administrator
    # changes only the answer
    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
        services.knowledge_save(
            scope=as_(kb, "hq"),
            entry=entry,
            community=None,
            kind=entry.kind,
            question=entry.question,
            variants=entry.variants,
            keywords=entry.keywords,
            answer="发票请在缴费后到前台开具，当天可取。",
        )
        # then the index is rebuilt without retraining, and the new answer is given
        after = retrieval.index_for(kb.company.pk, kb.community_a.pk)
        assert after is not before and after.model is before.model
        _c, reply = ask(kb, "物业费发票怎么开")
    assert reply.faq_entry_id == entry.pk and "当天可取" in reply.text


def test_a_new_entry_is_answered_at_once_and_learnt_in_the_background(kb, settings):
    # given the index of A is in use, and training in the background is on (production)
    settings.ANJU_ASSISTANT_TRAIN_IN_BACKGROUND = True
    before = retrieval.index_for(kb.company.pk, kb.community_a.pk)
    # when a clerk writes a new entry
    entry = services.knowledge_save(
        scope=as_(kb, "frontdesk_a"),
        community=kb.community_a,
        kind=KnowledgeKind.FAQ,
        question="小区可以烧烤吗？",
        variants="能在草坪上烧烤吗\n楼下空地能烤串吗",
        keywords="烧烤 明火 烤串",
        answer="小区公共区域禁止明火烧烤。",
    )
    # then the next question is answered from it at once (BM25; the old classifier goes on)
    index = retrieval.index_for(kb.company.pk, kb.community_a.pk)
    assert index.model is before.model
    match = index.best("草坪上能不能烧烤")
    assert match.doc.id == entry.pk and match.probability == 0.0
    # and once trained, the index has a classifier that knows the entry
    _join_training()
    trained = retrieval.index_for(kb.company.pk, kb.community_a.pk)
    assert trained.model is not before.model
    assert str(entry.pk) in trained.model.heads["entry"].classes
    match = trained.best("草坪上能不能烧烤")
    assert match.doc.id == entry.pk and match.probability > 0
    # and the other community's index (without the entry) keeps its own classifier
    other = retrieval.index_for(kb.company.pk, kb.community_b.pk)
    assert all(d.id != entry.pk for d in other.docs)
    assert str(entry.pk) not in other.model.heads["entry"].classes


def test_a_new_process_reads_the_stored_classifier_instead_of_training(kb, monkeypatch):
    # given a process that built the index of A (and stored its entry classifier)
    first = retrieval.index_for(kb.company.pk, kb.community_a.pk)
    stored = list((retrieval._model_path("x").parent).glob("*.npz"))
    assert len(stored) == 1
    # when the next process (nothing in memory) builds it, training is not needed
    retrieval.forget()

    def no_training(docs):
        raise AssertionError("trained again")

    monkeypatch.setattr(retrieval, "_entry_model", no_training)
    again = retrieval.index_for(kb.company.pk, kb.community_a.pk)
    # then it reads the same classifier from the file and answers alike
    assert again.model is not first.model
    assert again.model.heads["entry"].classes == first.model.heads["entry"].classes
    question = "物业费发票怎么开"
    assert again.best(question).doc.id == first.best(question).doc.id
    assert abs(again.best(question).confidence - first.best(question).confidence) < 1e-6
    # and a file that cannot be read is trained again, not an error
    stored[0].write_bytes(b"not a model")
    retrieval.forget()
    monkeypatch.undo()
    assert retrieval.index_for(kb.company.pk, kb.community_a.pk).model is not None
