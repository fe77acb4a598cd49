"""ASGI middleware run before any route: HTTP Basic auth (when set) and the request-size cap.

Pure ASGI rather than FastAPI dependencies so no route can be added without them, and so the cap counts
the bytes as they arrive (a missing or lying Content-Length does not get past it).
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets


def _reply(status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None):
    body = json.dumps({"error": "HTTPException", "detail": detail, "body": "", "errors": detail}).encode()
    start = {"type": "http.response.start", "status": status,
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                         *(headers or [])]}
    return start, {"type": "http.response.body", "body": body}


class TooLarge(Exception):
    pass


class Guard:
    def __init__(self, app, *, credentials: tuple[str, str] | None, max_request: int) -> None:
        self.app = app
        self.credentials = credentials
        self.max_request = max_request

    def _authorised(self, headers: dict[bytes, bytes]) -> bool:
        if self.credentials is None:
            return True
        scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(token, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        # both compared in full, whichever differs: no timing hint about which one was wrong
        ok_user = secrets.compare_digest(user.encode(), self.credentials[0].encode())
        ok_password = secrets.compare_digest(password.encode(), self.credentials[1].encode())
        return ok_user and ok_password

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if not self._authorised(headers):
            for message in _reply(401, "Incorrect username or password", [(b"www-authenticate", b"Basic")]):
                await send(message)
            return
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_request:
            for message in _reply(413, f"request is larger than the server's cap of {self.max_request} bytes"):
                await send(message)
            return
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_request:
                    raise TooLarge()
            return message

        started = False

        async def tracked(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except TooLarge:
            if not started:
                for message in _reply(413, f"request is larger than the server's cap of {self.max_request} bytes"):
                    await send(message)
