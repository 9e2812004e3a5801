"""A bound on what one upload request may carry in all, whatever its parts (Gradio checks each file alone).

An ASGI middleware (no Gradio): a request to an upload route whose declared length is over the bound, or that
declares none, is answered 413 (or 411) with a sentence before any of it is read or written to disk.
"""

import json

MAX_FILE_MB = 20  # one uploaded file, at most (Gradio's own check, `launch(max_file_size=…)`)
MAX_REQUEST_BYTES = MAX_FILE_MB * 2**20 + 256 * 2**10  # one file and its multipart headers


class UploadLimit:
    """Refuses upload requests (paths ending in /upload) of more than `max_bytes` in all, or of unknown length."""

    def __init__(self, app, max_bytes: int = MAX_REQUEST_BYTES):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].rstrip("/").endswith("/upload"):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is None or not length.isdigit():
            return await _refuse(send, 411, "An upload must say its length (Content-Length).")
        if int(length) > self.max_bytes:
            return await _refuse(send, 413, f"An upload may carry at most {MAX_FILE_MB} MB in all, one image; this "
                                            f"request carries {int(length) / 2**20:.1f} MB.")
        return await self.app(scope, receive, send)


async def _refuse(send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
