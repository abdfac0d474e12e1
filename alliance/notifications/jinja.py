"""Jinja2 for the parts of an email rendered once per recipient in bulk.

A digest run renders 10,000 digests; Django's template language took about
3 ms for each, Jinja2 (compiled to Python) takes a tenth of that. Only the
per-member parts of the digest use it (`notifications/email/*.jinja.html` and
`.jinja.txt`); the frame around them (email/base.html) and everything rendered
once per run stay Django templates. `.html` templates are autoescaped; Django's
safe strings (the fragments rendered once) are inserted as they are, and
everything else is escaped by Django's `escape`, so a body reads exactly as the
Django template it replaced did (`&quot;`, `&#x27;`).
"""

from functools import cache
from html import escape
from pathlib import Path

import jinja2
from django.conf import settings
from markupsafe import Markup

TEMPLATE_ROOT = Path(__file__).resolve().parents[1] / "templates"


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_ROOT),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",)),
        keep_trailing_newline=True,
        # As Django's templates: a missing key renders empty rather than failing a run.
        undefined=jinja2.ChainableUndefined,
        auto_reload=settings.DEBUG,
        finalize=_escape_as_django,
    )


@jinja2.pass_eval_context
def _escape_as_django(eval_context, value):
    if not eval_context.autoescape or hasattr(value, "__html__"):
        return value
    # What django.utils.html.escape does, without its lazy-string wrapper.
    return Markup(escape(str(value)))  # noqa: S704  (escaped here)


def render(name: str, context: dict) -> str:
    return environment().get_template(name).render(context)
