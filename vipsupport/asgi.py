"""ASGI entry point; production serves it with uvicorn."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vipsupport.settings.production")

application = get_asgi_application()

# Everything loaded so far lives as long as the process: keep the garbage collector off it.
gc.freeze()
