"""Links for long lists: reverse() once per list, not once per line.

The schedule lists every meeting and webinar of a program year (hundreds in a
large alliance), and one reverse() per line was a fifth of its time.
"""

from collections.abc import Callable

from django.urls import reverse

# An id no row will have, so that it is found in the reversed path unambiguously.
_MARKER = 2_147_483_647


def url_for_each(name: str, *, alliance_slug: str, id_kwarg: str) -> Callable[[int], str]:
    """`url(pk)` giving what `reverse(name, kwargs={alliance_slug, id_kwarg: pk})` would."""
    path = reverse(name, kwargs={"alliance_slug": alliance_slug, id_kwarg: _MARKER})
    head, marker, tail = path.rpartition(str(_MARKER))
    if not marker:  # pragma: no cover - a route that does not show its id
        raise ValueError(f"{name} does not put {id_kwarg} in its path.")
    return lambda pk: f"{head}{int(pk)}{tail}"
