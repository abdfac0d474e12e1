"""Form widgets that render long option lists in Python.

Django renders every `<option>` through its own template include: about
0.2 ms an option, so a filter offering an alliance's 250 organizations cost
more than the rest of the directory page. The markup is the same as Django's.
"""

from django import forms
from django.utils.html import format_html, format_html_join


def _attributes(attrs: dict) -> str:
    """As django/forms/widgets/attrs.html: True bare, False left out."""
    return format_html_join(
        "",
        "{}",
        (
            (format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value),)
            for name, value in attrs.items()
            if value is not False
        ),
    )


class FastSelect(forms.Select):
    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        groups = []
        for group_name, options, _index in widget["optgroups"]:
            lines = format_html_join(
                "",
                '\n  <option value="{}"{}>{}</option>\n',
                (
                    (option["value"], _attributes(option["attrs"]), option["label"])
                    for option in options
                ),
            )
            if group_name:
                lines = format_html('\n  <optgroup label="{}">{}\n  </optgroup>', group_name, lines)
            groups.append(lines)
        return format_html(
            '<select name="{}"{}>{}\n</select>',
            widget["name"],
            _attributes(widget["attrs"]),
            format_html_join("", "{}", ((group,) for group in groups)),
        )
