"""Request limits applied before any route: per source IP rate, and body size.

The per-account rate is applied where the account is known (when its token is
verified, in :mod:`flixstack.api.deps`). Media segments never reach the API: CDNs (the
local edges) serve them.
"""

from __future__ import annotations

import json
import math

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flixstack.auth.ratelimit import RateLimiter


async def _reply(
    send: Send, status: int, reason: str, detail: str, headers: list[tuple[bytes, bytes]]
) -> None:
    body = json.dumps({"detail": detail, "reason": reason}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestLimits:
    def __init__(self, app: ASGIApp, *, per_ip: RateLimiter, max_body_bytes: int) -> None:
        self.app = app
        self.per_ip = per_ip
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        wait = self.per_ip.take(f"ip:{client[0] if client else 'unknown'}")
        if wait > 0:
            await _reply(
                send,
                429,
                "rate_limited",
                f"too many requests from this address; retry in {math.ceil(wait)} s",
                [(b"retry-after", str(math.ceil(wait)).encode())],
            )
            return
        headers = dict(scope.get("headers", []))
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(send)
            return
        if declared is None and scope.get("method") in ("POST", "PUT", "PATCH"):
            body = await self._read_at_most(receive)
            if body is None:
                await self._too_large(send)
                return
            await self.app(scope, _replay(body), send)
            return
        await self.app(scope, receive, send)

    async def _too_large(self, send: Send) -> None:
        await _reply(
            send,
            413,
            "body_too_large",
            f"request bodies are limited to {self.max_body_bytes} bytes",
            [],
        )

    async def _read_at_most(self, receive: Receive) -> bytes | None:
        """The whole body, or None once it passes the limit (chunked requests)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive
