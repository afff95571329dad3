"""Compile every .po file under LOCALE_PATHS to .mo in pure Python, so no gettext is needed."""

from pathlib import Path
from typing import Any

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Compile the project's .po translation files to .mo (no system gettext required)."

    def handle(self, *args: Any, **options: Any) -> None:
        for locale_dir in settings.LOCALE_PATHS:
            for po_path in sorted(Path(locale_dir).rglob("*.po")):
                catalog = polib.pofile(str(po_path))
                catalog.save_as_mofile(str(po_path.with_suffix(".mo")))
                self.stdout.write(
                    f"{po_path}: {len(catalog.translated_entries())} translated, "
                    f"{len(catalog.untranslated_entries())} untranslated, "
                    f"{len(catalog.fuzzy_entries())} fuzzy"
                )
