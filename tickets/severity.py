"""The seed's severity definitions and examples, shown where customers choose a severity."""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tickets.models import Severity

# The seed gives examples for severities 3 to 5 only.
SEVERITY_HELP: dict[int, tuple[Promise, Promise | None]] = {
    Severity.CRITICAL: (
        _(
            "The service is down or unavailable. The situation disrupts your business and there "
            "is no workaround."
        ),
        None,
    ),
    Severity.HIGH: (
        _(
            "System operation is significantly affected. The cloud services work but have "
            "serious difficulties that significantly affect use of the service."
        ),
        None,
    ),
    Severity.STANDARD: (
        _("Partial loss of the cloud services affecting your work."),
        _("New e-mails are not received, or an integration does not work."),
    ),
    Severity.BUG: (
        _("Questions about bugs: problems that are not of primary importance."),
        _("A particular rule does not work."),
    ),
    Severity.REQUEST: (
        _(
            "A request for set-up advice, a feature suggestion, or any other question about the "
            "support we offer."
        ),
        _("Setting up automation rules, advice on a use case, a question about a feature."),
    ),
}
