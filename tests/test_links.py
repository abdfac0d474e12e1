"""url_for_each gives exactly what reverse() gives, for any id."""

import pytest
from django.urls import reverse

from alliance.links import url_for_each


@pytest.mark.parametrize("slug", ["load-01", "a1", "national-alliance"])
@pytest.mark.parametrize("pk", [1, 7, 10, 2024, 987654321])
def test_same_as_reverse(slug, pk):
    for name, kwarg in (("meetings:detail", "meeting_id"), ("roundtables:detail", "roundtable_id")):
        url = url_for_each(name, alliance_slug=slug, id_kwarg=kwarg)
        assert url(pk) == reverse(name, kwargs={"alliance_slug": slug, kwarg: pk})
