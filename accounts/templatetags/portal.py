"""Small presentation helpers for portal templates."""

from decimal import Decimal

from django import template
from django.template.defaultfilters import floatformat

register = template.Library()

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "BGN": "лв."}


@register.simple_tag
def money(amount: Decimal, currency: str) -> str:
    """1000.00 EUR -> "1000 €": whole amounts without decimals, the currency's symbol after."""
    return f"{floatformat(amount, '-2')} {CURRENCY_SYMBOLS.get(currency, currency)}"
