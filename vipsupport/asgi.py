"""ASGI entry point: pages over HTTP and the chat's websockets; production runs it on uvicorn."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vipsupport.settings.production")

# Django first: the websocket routing imports models.
django_application = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from chat.routing import websocket_urlpatterns  # noqa: E402
from vipsupport.request_id import RequestIdASGIMiddleware  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        # Sessions identify the user; a page of another site may not open a socket as them.
        # Each connection logs under one request id (README "Logs").
        "websocket": RequestIdASGIMiddleware(
            AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
        ),
    }
)

# Everything loaded so far lives as long as the process: keep the garbage collector off it.
gc.freeze()
