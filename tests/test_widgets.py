"""FastSelect renders exactly what Django's Select renders, in Python."""

import pytest
from django import forms

from alliance.widgets import FastSelect

CHOICES = [
    ("", "All organizations"),
    ("a&b", "A & B <Hospital>"),
    ("1", 'One "quoted"'),
    ("Group", [("g1", "G1"), ("g2", "G2")]),
]


@pytest.mark.parametrize("value", ["", "1", "g2", None, "missing"])
@pytest.mark.parametrize(
    "attrs",
    [None, {"id": "id_org", "class": "form-select", "required": True, "disabled": False}],
)
def test_same_markup_as_djangos_select(value, attrs):
    expected = forms.Select(choices=CHOICES).render("organization", value, attrs=attrs)
    assert FastSelect(choices=CHOICES).render("organization", value, attrs=attrs) == expected


def test_labels_and_values_are_escaped():
    html = FastSelect(choices=CHOICES).render("organization", "")
    assert "A &amp; B &lt;Hospital&gt;" in html
    assert 'value="a&amp;b"' in html
    assert "<Hospital>" not in html
