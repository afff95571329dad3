"""API tokens in `Authorization: Bearer <token>` (or `Token <token>`), checked against the stored
SHA-256; the browser's session works too (DRF's SessionAuthentication, with its CSRF check)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.models import ApiToken, User
from accounts.selectors import api_token_find
from accounts.services import api_token_touch

KEYWORDS = (b"bearer", b"token")


class BearerTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() not in KEYWORDS:
            return None  # not ours: the session may still authenticate
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("Send the token as “Authorization: Bearer <token>”.")
            )
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError as error:
            raise exceptions.AuthenticationFailed(_("This token is not valid.")) from error
        now = timezone.now()
        token = api_token_find(key=key, now=now)
        if token is None:
            raise exceptions.AuthenticationFailed(
                _("This token is not valid: it is unknown, revoked or expired.")
            )
        api_token_touch(token=token, now=now)
        # The middleware chose language and zone before DRF knew who calls: answer in theirs.
        translation.activate(token.user.preferred_language)
        timezone.activate(token.user.time_zone)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer"}
