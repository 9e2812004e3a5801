"""What requests the server lets in, before Gradio reads them: an ASGI middleware (no Gradio).

- An upload request carries at most one image in all (Gradio checks each file alone): one whose declared length is
  over the bound, or that declares none, is answered 413 (or 411) before any of it is read or written to disk.
- A call of an event (`/run/predict`, `/queue/join`) must name one of the app's events that runs on the server, with
  as many values as it takes: Gradio answers an unknown `fn_index` with a traceback in the log and an empty 500.
"""

import json
from collections.abc import Callable

MAX_FILE_MB = 20  # one uploaded file, at most (Gradio's own check, `launch(max_file_size=…)`)
MAX_REQUEST_BYTES = MAX_FILE_MB * 2**20 + 256 * 2**10  # one file and its multipart headers
MAX_CALL_BYTES = 2**20  # an event's JSON call: its values are settings and file references, never pixels
CALLS = ("/run/predict", "/queue/join")


class Gate:
    """ASGI middleware. `events()` returns {fn_index: number of inputs} of the events a client may call, a negative
    number for one whose values must be a single whole number (Gradio's example loaders take the example's index);
    it is read at each call, since the app is built after the middleware is made."""

    def __init__(self, app, events: Callable[[], dict[int, int]] = dict, max_upload: int = MAX_REQUEST_BYTES):
        self.app = app
        self.events = events
        self.max_upload = max_upload

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "POST":
            return await self.app(scope, receive, send)
        path = scope["path"].rstrip("/")
        if path.endswith("/upload"):
            return await self._upload(scope, receive, send)
        if path.endswith(CALLS):
            return await self._call(scope, receive, send)
        return await self.app(scope, receive, send)

    async def _upload(self, scope, receive, send):
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is None or not length.isdigit():
            return await refuse(send, 411, "An upload must say its length (Content-Length).")
        if int(length) > self.max_upload:
            return await refuse(send, 413, f"An upload may carry at most {MAX_FILE_MB} MB in all, one image; this "
                                           f"request carries {int(length) / 2**20:.1f} MB.")
        return await self.app(scope, receive, send)

    async def _call(self, scope, receive, send):
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_CALL_BYTES:
                return await refuse(send, 413, "An event's call carries settings, not data: this one is too large.")
        try:
            call = json.loads(body or b"{}")
        except ValueError:
            return await refuse(send, 400, "An event's call must be JSON.")
        index, values = (call.get("fn_index"), call.get("data")) if isinstance(call, dict) else (None, None)
        events = self.events()
        if not isinstance(index, int) or isinstance(index, bool) or index not in events:
            return await refuse(send, 404, f"This app has no event {index!r} that runs on the server.")
        count = abs(events[index])
        if not isinstance(values, list) or len(values) != count:
            return await refuse(send, 400, f"Event {index} takes a list of {count} values.")
        if events[index] < 0 and not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
            return await refuse(send, 400, f"Event {index} takes an example's index, a whole number.")
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)


async def refuse(send, status: int, message: str) -> None:
    payload = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})
