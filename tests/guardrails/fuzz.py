"""Hypothesis fuzzing of a form: whatever is posted, never a server error."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .crawl import Form

NASTY = st.sampled_from(
    [
        "\x00",
        "a\x00b",
        "2021-02-30",
        "0000-00-00",
        "9999-99-99T99:99",
        "-1",
        "1e309",
        "NaN",
        "Infinity",
        "9" * 60,
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "\u202e\u0000\ufeff",
        "𝕏" * 2000,
        "Name\r\nBcc: victim@example.org",
        "../../etc/passwd",
    ]
)
VALUE = st.one_of(
    NASTY,
    st.text(max_size=200),
    st.integers().map(str),
    st.dates().map(str),
    st.just(""),
)
HUGE = "x" * (10 * 1024 * 1024)


def server_errors(client, form: Form, *, examples: int = 25) -> list[str]:
    """Post random values into every field of `form`; report any 5xx or exception.

    Hypothesis shrinks a failure to a minimal example before it is reported.
    """

    def post(values):
        # The test client re-raises a view's exception: that counts as a 5xx.
        response = client.post(form.action, {**form.hidden, **values})
        assert response.status_code < 500, f"{response.status_code} for {values!r}"

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.fixed_dictionaries({name: VALUE for name in form.fields}))
    def fuzz(values):
        post(values)

    problems = []
    for attempt in (fuzz, lambda: post(dict.fromkeys(form.fields, HUGE))):
        try:
            attempt()
        except Exception as exc:
            problems.append(f"POST {form.action}: {type(exc).__name__}: {str(exc)[:300]}")
    return problems
