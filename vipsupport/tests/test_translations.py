from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parents[2] / "locale"


def test_every_bulgarian_message_is_translated():
    catalog = polib.pofile(str(LOCALE / "bg" / "LC_MESSAGES" / "django.po"))

    assert [entry.msgid for entry in catalog.untranslated_entries()] == []
    assert [entry.msgid for entry in catalog.fuzzy_entries()] == []


def test_placeholders_survive_translation():
    catalog = polib.pofile(str(LOCALE / "bg" / "LC_MESSAGES" / "django.po"))

    for entry in catalog.translated_entries():
        if entry.msgid_plural:
            forms = entry.msgstr_plural
            assert sorted(_placeholders(entry.msgid)) == sorted(_placeholders(forms[0]))
            assert sorted(_placeholders(entry.msgid_plural)) == sorted(_placeholders(forms[1]))
            continue
        assert sorted(_placeholders(entry.msgid)) == sorted(_placeholders(entry.msgstr)), (
            entry.msgid
        )


def _placeholders(text: str) -> list[str]:
    import re

    return re.findall(r"%\(\w+\)s|%s|%d", text)
