"""Jinja2 for the parts of an email rendered once per recipient in bulk.

A digest run renders 10,000 digests; Django's template language took about
3 ms for each, Jinja2 (compiled to Python) takes a tenth of that. Only the
parts rendered per member or per shape of message use it (the digest, the
reminders and RSVP nudges: `notifications/email/*.jinja.html` and
`.jinja.txt`); the frame around them (email/base.html) and everything rendered
once per run stay Django templates. `.html` templates are autoescaped by
MarkupSafe (in C); Django's safe strings (the fragments rendered once) are
inserted as they are, and the quotes MarkupSafe writes as `&#34;` and `&#39;`
are then written as Django's `escape` writes them (`&quot;`, `&#x27;`), so a
body reads exactly as the Django template it replaced did. Nothing else in an
output holds those two entities: a member's own "&#34;" is escaped to
"&amp;#34;", and the Django fragments already use Django's forms.
"""

from functools import cache
from pathlib import Path

import jinja2
from django.conf import settings

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
    )


def load_email_templates() -> None:
    """Compile every email template, Jinja2 and Django, once (a worker's start)."""
    from django.template.loader import get_template

    for name in environment().list_templates(
        filter_func=lambda name: name.startswith("notifications/email/")
    ):
        if ".jinja." in name:
            environment().get_template(name)
        else:
            get_template(name)


def render(name: str, context: dict) -> str:
    return _as_django(name, environment().get_template(name).render(context))


def render_blocks(name: str, context: dict) -> dict[str, str]:
    """Each block of template `name` rendered on its own, by block name.

    For bodies whose blocks go into a frame rendered once (reminders: title,
    preheader and content into notifications/email/frame.html).
    """
    template = environment().get_template(name)
    blocks = template.new_context(context)
    return {
        block: _as_django(name, "".join(render_block(blocks)))
        for block, render_block in template.blocks.items()
    }


def _as_django(name: str, output: str) -> str:
    if name.endswith(".html"):
        # A Python finalize hook doing Django's escaping was a third of a render.
        output = output.replace("&#34;", "&quot;").replace("&#39;", "&#x27;")
    return output
