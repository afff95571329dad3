"""Widgets the pages render often with many choices."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe


def _attributes(attrs: dict[str, Any]) -> str:
    """Django's `django/forms/widgets/attrs.html`, in Python."""
    return "".join(
        format_html(" {}", name) if value is True else format_html(' {}="{}"', name, str(value))
        for name, value in attrs.items()
        if value is not False
    )


class ManyOptionsSelect(forms.Select):
    """A `Select` whose HTML is Django's own, written in Python instead of through the form
    renderer's templates: those cost a template render per option, ~10 ms for the 200 agents of
    the workspace's assignee list or a VIP company's open tickets on the booking form (`make
    load`'s profile). Option groups and per-option attributes are written as Django does."""

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: Any = None,
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [format_html('<select name="{}"', widget["name"]), _attributes(widget["attrs"])]
        parts.append(">")
        for group_name, options, _ in widget["optgroups"]:
            if group_name:
                parts.append(format_html('\n  <optgroup label="{}">', group_name))
            for option in options:
                parts.append(
                    format_html(
                        '\n  <option value="{}"{}>{}</option>\n',  # the template's own newline
                        str(option["value"]),
                        mark_safe(_attributes(option["attrs"])),  # noqa: S308 - escaped above
                        conditional_escape(option["label"]),
                    )
                )
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))  # noqa: S308 - every part is escaped above
