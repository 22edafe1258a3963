"""``{% request_classification request %}``: the classifier's reading of a request, as rows of
the request page's details."""

from django import template

from anju.assistant.choices import DECISION_COLOURS
from anju.assistant.classifier import REJECT
from anju.assistant.selectors import classification_of

register = template.Library()


@register.inclusion_tag("assistant/_request_classification.html")
def request_classification(request_obj):
    from anju.servicedesk.choices import Priority
    from anju.servicedesk.models import Category

    row = classification_of(request_obj.pk)
    if row is None:
        return {"row": None}
    category = Category.objects.filter(
        company_id=request_obj.company_id, code=row.category_code
    ).first()
    return {
        "row": row,
        "category": category,
        "unclear": row.category_code == REJECT,
        "urgency": Priority(row.urgency).label if row.urgency in Priority.values else row.urgency,
        "colour": DECISION_COLOURS.get(row.decision, "secondary"),
        "percent": round(row.confidence * 100),
    }
