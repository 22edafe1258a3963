"""LongSelect renders what Django's Select renders, in one pass."""

from html.parser import HTMLParser

from django import forms

from anju.core.widgets import LongSelect


class _Options(HTMLParser):
    def __init__(self):
        super().__init__()
        self.select = None
        self.options = []
        self._current = None

    def handle_starttag(self, tag, attrs):
        if tag == "select":
            self.select = dict(attrs)
        elif tag == "option":
            self._current = [dict(attrs), ""]
            self.options.append(self._current)

    def handle_data(self, data):
        if self._current is not None:
            self._current[1] += data

    def handle_endtag(self, tag):
        if tag == "option":
            self._current = None


def _parse(html):
    parser = _Options()
    parser.feed(str(html))
    return parser.select, [(o[0], o[1].strip()) for o in parser.options]


def test_same_options_attributes_and_selection_as_django_select():
    choices = [("", "全部"), (1, "王师傅"), (2, "<b>李</b> & 张"), (30, "赵")]
    for value in (None, "", 2, "30", "999"):
        attrs = {"id": "id_a", "class": "x"}
        ours = LongSelect(choices=choices).render("assignee", value, attrs)
        django = forms.Select(choices=choices).render("assignee", value, attrs)
        assert _parse(ours) == _parse(django), value
    assert "&lt;b&gt;" in ours  # labels are escaped


def test_option_groups_fall_back_to_django():
    choices = [("A", [(1, "一"), (2, "二")]), ("B", [(3, "三")])]
    html = LongSelect(choices=choices).render("x", 3)
    assert "<optgroup" in html and "selected" in _parse(html)[1][2][0]
