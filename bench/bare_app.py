"""The ceiling: a bare ASGI app that reads the request body and answers 202 with a small
JSON body, run by the same server (uvicorn) as Cartwheel, so the ratio shows what the
framework, validation, identity and storage cost on top of the HTTP stack itself."""

from __future__ import annotations

from typing import Any

BODY = b'{"id":"00000000-0000-0000-0000-000000000000","duplicate":false}'


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send(
        {
            "type": "http.response.start",
            "status": 202,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": BODY})
