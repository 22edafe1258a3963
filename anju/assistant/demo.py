"""Demo conversations for ``anju demo``: the two demo residents ask the assistant the usual
things over the last two weeks — through the real service, then moved back in time — with a
few hand-offs and thumbs, so the console's log and figures have something to show."""

from __future__ import annotations

import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import F

QUESTIONS = [
    "我家还欠多少物业费",
    "这个月的账单出来了吗",
    "物业费可以用支付宝交吗",
    "明天停水吗",
    "电梯哪天保养",
    "马桶堵了怎么办",
    "家里跳闸了，推不上去",
    "物业电话多少",
    "周六物业上班吗",
    "我的报修到哪了",
    "装修要办什么手续",
    "门禁卡丢了怎么补",
    "快递能放前台吗",
    "几点可以扔垃圾",
    "暖气什么时候来",
    "热水器打不着火",
    "你好",
    "谢谢",
    "能开居住证明吗",
    "车位怎么租",
]
HANDOFFS = [
    "楼上漏水把我家天花板泡坏了，要求物业协调赔偿",
    "我想跟物业经理当面谈一下小区绿化改造的事",
    "转人工",
]


def seed_demo_conversations(result: dict, size: str, verbose=print) -> None:
    if size != "small":
        return
    from anju.assistant import services
    from anju.assistant.models import Conversation, Message
    from anju.estates.scoping import scope_for

    rng = random.Random(5)
    users = list(get_user_model().objects.filter(username__in=["resident", "resident2"]))
    if not users:
        return
    count = 0
    for i in range(24):
        user = users[i % len(users)]
        scope = scope_for(user)
        if not scope.room_ids:
            continue
        asks = rng.sample(QUESTIONS, rng.randint(1, 3))
        if i % 8 == 3:
            asks.append(HANDOFFS[(i // 8) % len(HANDOFFS)])
        conversation = services.conversation_start(scope=scope)
        for text in asks:
            conversation, _asked, answered = services.message_send(
                scope=scope, text=text, conversation=conversation
            )
            if answered.outcome == "answered" and rng.random() < 0.45:
                services.message_feedback(
                    scope=scope, message=answered, value=1 if rng.random() < 0.85 else -1
                )
            count += 1
        shift = timedelta(days=13 - i * 13 / 24, hours=rng.randint(0, 5))
        Message.objects.filter(conversation=conversation).update(created_at=F("created_at") - shift)
        Conversation.objects.filter(pk=conversation.pk).update(
            started_at=F("started_at") - shift,
            last_message_at=F("last_message_at") - shift,
            handed_off_at=F("handed_off_at") - shift,
        )
    verbose(f"  assistant: {count} demo questions in 24 conversations")
