from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeskConfig(AppConfig):
    name = "desk"
    verbose_name = _("Support desk")

    def ready(self) -> None:
        from desk import receivers  # noqa: F401  (connects the cache invalidation)
