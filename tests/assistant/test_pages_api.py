"""Who reaches the assistant's pages and API routes (per standard user), the resident chat page
(htmx and plain posts, thumbs, new chat), the console's conversation log, hand-offs waiting,
knowledge base editing, unanswered questions turned into entries, the figures, bad input on
the API, and list pages whose query count does not grow with their rows."""

import json

import pytest

from anju.assistant.models import Conversation, FaqEntry, Message
from tests.assistant.conftest import ask

pytestmark = pytest.mark.django_db

STAFF = ["hq", "manager_a", "tech_a", "frontdesk_a", "staff_b", "outsider"]


@pytest.fixture
def chats(kb):
    """A conversation of resident_a (answered, and handed off) and one of resident_other."""
    mine, _reply = ask(kb, "物业费怎么交")
    mine, handed = ask(kb, "我要找经理谈赔偿", conversation=mine)
    theirs, _r = ask(kb, "我还欠多少钱", user="resident_other")
    return {"mine": mine, "theirs": theirs, "handed": handed}


def console(hq, manager_a, tech_a, frontdesk_a, staff_b, outsider):
    return {
        "anonymous": 302,
        "hq": hq,
        "manager_a": manager_a,
        "tech_a": tech_a,
        "frontdesk_a": frontdesk_a,
        "staff_b": staff_b,
        "outsider": outsider,
        "observer_a": 403,
        "resident_a": 403,
        "merchant": 403,
    }


def resident(resident_a, resident_other):
    return {
        "anonymous": 302,
        **dict.fromkeys(STAFF, 302),
        "observer_a": 403,
        "merchant": 403,
        "resident_a": resident_a,
        "resident_other": resident_other,
    }


C = "/console/assistant"
PAGES = [
    (f"{C}/", console(200, 200, 403, 200, 403, 200)),
    (f"{C}/?state=handed_off&q=物业费", console(200, 200, 403, 200, 403, 200)),
    (f"{C}/?community=999999&page=abc", console(200, 200, 403, 200, 403, 200)),
    (f"{C}/conversations/{{mine}}/", console(200, 200, 403, 200, 403, 404)),
    (f"{C}/conversations/999999/", console(404, 404, 403, 404, 403, 404)),
    (f"{C}/handoffs/", console(200, 200, 403, 200, 403, 200)),
    (f"{C}/knowledge/", console(200, 200, 403, 200, 403, 200)),
    (f"{C}/knowledge/?kind=guide&published=1&q=马桶", console(200, 200, 403, 200, 403, 200)),
    (f"{C}/knowledge/new/", console(200, 200, 403, 200, 403, 200)),
    (f"{C}/knowledge/{{entry}}/", console(200, 200, 403, 200, 403, 404)),
    (f"{C}/performance/", console(200, 200, 403, 200, 403, 200)),
    (f"{C}/performance/?days=abc", console(200, 200, 403, 200, 403, 200)),
    ("/m/assistant/", resident(200, 200)),
    ("/m/assistant/?q=<b>x</b>", resident(200, 200)),
]


@pytest.mark.parametrize("url, expected", PAGES, ids=[p[0] for p in PAGES])
def test_page_access(kb, chats, url, expected):
    entry = FaqEntry.objects.get(company=kb.company, slug="fees.payment")
    url = url.format(mine=chats["mine"].pk, entry=entry.pk)
    problems = []
    for user, status in expected.items():
        response = kb.client(user).get(url)
        if response.status_code != status:
            problems.append(f"{user}: expected {status}, got {response.status_code}")
    assert not problems, problems


def test_staff_see_only_their_communities(kb, chats):
    # given a conversation in community B
    from anju.estates.models import HouseholdMember
    from tests.factories import UserFactory

    user = UserFactory(username="resident_b", role="resident")
    kb.resident_b.user = user
    kb.resident_b.save()
    kb.users["resident_b"] = user
    in_b, _r = ask(kb, "物业电话多少", user="resident_b")
    assert HouseholdMember.objects.filter(resident=kb.resident_b).exists()

    def ids(name):
        return {c.pk for c in kb.client(name).get(f"{C}/").context["object_list"]}

    assert ids("hq") == {chats["mine"].pk, chats["theirs"].pk, in_b.pk}
    assert ids("manager_a") == {chats["mine"].pk, chats["theirs"].pk}
    assert ids("outsider") == set()
    assert kb.client("manager_a").get(f"{C}/conversations/{in_b.pk}/").status_code == 404


def test_the_chat_page(kb):
    client = kb.client("resident_a")
    # when the resident asks through the page (htmx), the two bubbles come back
    response = client.post("/m/assistant/", {"text": "物业费怎么交"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "bubble me" in body and "bubble bot" in body
    assert "微信" in body and "thumbs-" in body
    conversation = Conversation.objects.get()
    # the next question continues the same conversation; a plain post redirects
    response = client.post(
        "/m/assistant/", {"text": "我还欠多少钱", "conversation": conversation.pk}
    )
    assert response.status_code == 302 and Conversation.objects.count() == 1
    page = client.get("/m/assistant/").content.decode()
    assert "¥223.75" in page and "物业费怎么交" in page
    # an empty question is answered with a hint, nothing stored
    response = client.post("/m/assistant/", {"text": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "alert" in response.content.decode()
    assert Message.objects.count() == 4
    # another household's conversation cannot be continued
    other = kb.client("resident_other")
    assert (
        other.post("/m/assistant/", {"text": "你好", "conversation": conversation.pk}).status_code
        == 404
    )
    # a new chat starts an empty conversation
    client.post("/m/assistant/new/")
    assert Conversation.objects.filter(user=kb.users["resident_a"]).count() == 2
    client.post("/m/assistant/new/")
    assert Conversation.objects.filter(user=kb.users["resident_a"]).count() == 2


def test_thumbs_through_the_page(kb, chats):
    reply = Message.objects.filter(conversation=chats["mine"], role="assistant").first()
    client = kb.client("resident_a")
    response = client.post(
        f"/m/assistant/messages/{reply.pk}/feedback/", {"value": "1"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and "on" in response.content.decode()
    assert Message.objects.get(pk=reply.pk).feedback == 1
    assert (
        client.post(f"/m/assistant/messages/{reply.pk}/feedback/", {"value": "9"}).status_code
        == 400
    )
    assert (
        kb.client("resident_other")
        .post(f"/m/assistant/messages/{reply.pk}/feedback/", {"value": "1"})
        .status_code
        == 404
    )
    assert (
        kb.client("hq")
        .post(f"/m/assistant/messages/{reply.pk}/feedback/", {"value": "1"})
        .status_code
        == 302
    )


def test_handoffs_waiting(kb, chats):
    page = kb.client("frontdesk_a").get(f"{C}/handoffs/")
    rows = list(page.context["object_list"])
    assert [c.pk for c in rows] == [chats["mine"].pk]
    assert rows[0].handoff_request.number in page.content.decode()


def test_knowledge_base_editing(kb):
    clerk = kb.client("frontdesk_a")
    form = {
        "community": kb.community_a.pk,
        "kind": "faq",
        "question": "小区可以烧烤吗",
        "variants": "能在草坪上烧烤吗",
        "answer": "小区公共区域禁止明火烧烤。",
        "keywords": "烧烤 明火",
        "category_code": "",
        "is_published": "on",
    }
    assert clerk.post(f"{C}/knowledge/new/", form).status_code == 302
    entry = FaqEntry.objects.get(question="小区可以烧烤吗")
    assert entry.community == kb.community_a and entry.created_by == kb.users["frontdesk_a"]
    # the assistant answers from it right away
    _c, reply = ask(kb, "草坪上能不能烧烤")
    assert reply.faq_entry_id == entry.pk
    # a company-wide entry is for company administrators only; markup is refused
    assert clerk.post(f"{C}/knowledge/new/", {**form, "community": ""}).status_code == 400
    assert (
        clerk.post(f"{C}/knowledge/new/", {**form, "answer": "<script>x</script>"}).status_code
        == 400
    )
    assert clerk.post(f"{C}/knowledge/new/", {**form, "category_code": "nope"}).status_code == 400
    assert (
        kb.client("hq")
        .post(f"{C}/knowledge/new/", {**form, "community": "", "question": "全公司的问题"})
        .status_code
        == 302
    )
    # a company-wide default entry cannot be edited by a community's clerk
    company = FaqEntry.objects.get(company=kb.company, slug="fees.payment")
    assert clerk.post(f"{C}/knowledge/{company.pk}/", {**form, "community": ""}).status_code == 400
    assert clerk.post(f"{C}/knowledge/{company.pk}/delete/").status_code == 403
    # the clerk deletes her own entry; the other company's entries are out of reach
    assert clerk.post(f"{C}/knowledge/{entry.pk}/delete/").status_code == 302
    assert not FaqEntry.objects.filter(pk=entry.pk).exists()
    other = FaqEntry.objects.exclude(company=kb.company).first()
    assert kb.client("hq").get(f"{C}/knowledge/{other.pk}/").status_code == 404


def test_unanswered_questions_become_entries(kb, chats):
    # given a hand-off in the conversation log
    page = kb.client("manager_a").get(f"{C}/performance/")
    unanswered = list(page.context["unanswered"])
    assert [m.question.text for m in unanswered] == ["我要找经理谈赔偿"]
    figures = page.context["figures"]
    assert figures["total"] == 3 and figures["handed_off"] == 1
    assert round(figures["containment"], 3) == round(2 / 3, 3)
    # when the manager writes an entry from it, the form starts with the question
    reply = unanswered[0]
    form_page = kb.client("manager_a").get(f"{C}/knowledge/new/?from_message={reply.pk}")
    assert form_page.context["form"].initial["question"] == "我要找经理谈赔偿"
    response = kb.client("manager_a").post(
        f"{C}/knowledge/new/",
        {"community": kb.community_a.pk, "kind": "faq", "question": "我要找经理谈赔偿",
         "answer": "赔偿事宜请拨打物业经理电话预约面谈。", "is_published": "on",
         "from_message": reply.pk},
    )  # fmt: skip
    assert response.status_code == 302
    assert Message.objects.get(pk=reply.pk).resolved
    assert not list(kb.client("manager_a").get(f"{C}/performance/").context["unanswered"])


def test_dismissing_an_unanswered_question(kb, chats):
    reply = Message.objects.get(outcome="handed_off")
    assert kb.client("tech_a").post(f"{C}/unanswered/{reply.pk}/dismiss/").status_code == 403
    assert kb.client("outsider").post(f"{C}/unanswered/{reply.pk}/dismiss/").status_code == 404
    assert kb.client("frontdesk_a").post(f"{C}/unanswered/{reply.pk}/dismiss/").status_code == 302
    assert Message.objects.get(pk=reply.pk).resolved


def test_list_queries_do_not_grow(kb, django_assert_max_num_queries):
    for i in range(12):
        ask(kb, f"物业费怎么交{i}")
    ask(kb, "我要人工")
    client = kb.client("manager_a")
    for url, budget in ((f"{C}/", 12), (f"{C}/knowledge/?per_page=100", 12),
                        (f"{C}/handoffs/", 12), (f"{C}/performance/", 20)):  # fmt: skip
        with django_assert_max_num_queries(budget):
            assert client.get(url).status_code == 200
    resident = kb.client("resident_a")
    with django_assert_max_num_queries(12):
        assert resident.get("/m/assistant/").status_code == 200


# --- API -------------------------------------------------------------------------------------------
V = "/api/v1/assistant"


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_api_ask_and_read(kb):
    api = kb.api("resident_a")
    response = post(api, f"{V}/messages", {"text": "我还欠多少钱"})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["reply"]["intent"] == "bill" and "¥223.75" in data["reply"]["text"]
    assert data["reply"]["sources"][0]["kind"] == "bills"
    cid = data["conversation_id"]
    data = post(api, f"{V}/messages", {"text": "转人工", "conversation_id": cid}).json()
    assert data["reply"]["outcome"] == "handed_off" and data["handoff_request_id"]
    assert data["conversation_state"] == "handed_off"
    detail = api.get(f"{V}/conversations/{cid}").json()
    assert [m["role"] for m in detail["messages"]] == ["resident", "assistant"] * 2
    assert api.get(f"{V}/conversations").json()["count"] == 1
    reply_id = detail["messages"][1]["id"]
    assert post(api, f"{V}/messages/{reply_id}/feedback", {"value": 1}).json()["feedback"] == 1
    # another household, staff, strangers
    other = kb.api("resident_other")
    assert other.get(f"{V}/conversations/{cid}").status_code == 404
    assert post(other, f"{V}/messages", {"text": "你好", "conversation_id": cid}).status_code == 404
    assert post(other, f"{V}/messages/{reply_id}/feedback", {"value": 1}).status_code == 404
    assert post(kb.api("hq"), f"{V}/messages", {"text": "你好"}).status_code == 403
    assert post(kb.api("merchant"), f"{V}/messages", {"text": "你好"}).status_code == 403
    assert post(kb.api("anonymous"), f"{V}/messages", {"text": "你好"}).status_code == 401
    assert kb.api("manager_a").get(f"{V}/conversations/{cid}").status_code == 200
    assert kb.api("outsider").get(f"{V}/conversations/{cid}").status_code == 404


def test_api_bad_input(kb):
    api = kb.api("resident_a")
    assert post(api, f"{V}/messages", {"text": ""}).status_code == 400
    assert post(api, f"{V}/messages", {"text": "x" * 10001}).status_code == 422
    assert post(api, f"{V}/messages", {}).status_code == 422
    assert post(api, f"{V}/messages", {"text": "你好", "conversation_id": "abc"}).status_code == 422
    assert (
        post(api, f"{V}/messages", {"text": "你好", "conversation_id": 999999}).status_code == 404
    )
    assert post(api, f"{V}/messages/1/feedback", {"value": "up"}).status_code == 422
    long = post(api, f"{V}/messages", {"text": "物业费怎么交" + "呀" * 9990})
    assert long.status_code == 200 and len(long.json()["question"]["text"]) == 2000
    assert Message.objects.filter(role="resident").count() == 1


def test_api_classify(kb):
    body = {"subject": "电梯", "text": "电梯困人了，快来人"}
    data = post(kb.api("frontdesk_a"), f"{V}/classify", body).json()
    assert data["category"] == "repair.elevator" and data["urgency"] == "urgent"
    assert data["category_name"] == "电梯" and data["auto_route"] is True
    assert post(kb.api("resident_a"), f"{V}/classify", body).status_code == 200
    assert post(kb.api("tech_a"), f"{V}/classify", body).status_code == 403
    assert post(kb.api("frontdesk_a"), f"{V}/classify", {"text": ""}).status_code == 422


def test_api_knowledge_and_stats(kb, chats):
    clerk = kb.api("frontdesk_a")
    listed = clerk.get(f"{V}/knowledge?kind=guide").json()
    assert listed["count"] == 13 and all(e["kind"] == "guide" for e in listed["items"])
    body = {
        "community_id": kb.community_a.pk,
        "question": "能在小区里放风筝吗",
        "answer": "可以，注意避开电线。",
    }
    created = post(clerk, f"{V}/knowledge", body)
    assert created.status_code == 201
    eid = created.json()["id"]
    updated = clerk.put(
        f"{V}/knowledge/{eid}",
        json.dumps({**body, "answer": "可以。"}),
        content_type="application/json",
    )
    assert updated.json()["answer"] == "可以。"
    assert (
        post(clerk, f"{V}/knowledge", {**body, "community_id": kb.community_b.pk}).status_code
        == 404
    )
    assert post(clerk, f"{V}/knowledge", {**body, "community_id": None}).status_code == 403
    assert post(kb.api("tech_a"), f"{V}/knowledge", body).status_code == 403
    assert clerk.delete(f"{V}/knowledge/{eid}").status_code == 204
    stats = kb.api("manager_a").get(f"{V}/stats?days=7").json()
    assert stats["total"] == 3 and stats["handed_off"] == 1
    assert kb.api("manager_a").get(f"{V}/stats?days=0").status_code == 422
    assert kb.api("resident_a").get(f"{V}/stats").status_code == 403
    handoffs = kb.api("manager_a").get(f"{V}/handoffs").json()
    assert [c["id"] for c in handoffs["items"]] == [chats["mine"].pk]
    assert kb.api("outsider").get(f"{V}/handoffs").json()["count"] == 0
