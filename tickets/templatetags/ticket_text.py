"""Template filters for the text people write on tickets."""

from django import template
from django.utils.safestring import SafeString

from tickets.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(value: object) -> SafeString:
    """`{{ message.body|markdown }}`: the body's Markdown as sanitised HTML."""
    return render_markdown("" if value is None else str(value))
