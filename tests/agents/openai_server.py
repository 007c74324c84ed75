"""A scripted OpenAI-compatible chat server on 127.0.0.1, for driving the real `langchain-openai`
client (and so the real `openai` and `httpx` stack) without a network or a key.

Each POST to /v1/chat/completions takes the next answer from the script: a completion (`say`,
`call`, `calls`), an HTTP error (`Status`), or either after a delay (`Slow`). A request past the
end of the script is answered 500 and counted in `overrun`, so a test can tell.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from typing import Any

_ids = count(1)


@dataclass(frozen=True)
class Completion:
    message: dict[str, Any]


@dataclass(frozen=True)
class Status:
    """An HTTP error answer; `body` is what the server says (it may quote secrets)."""

    code: int
    body: str = '{"error": {"message": "scripted failure", "type": "server_error"}}'


@dataclass(frozen=True)
class Slow:
    """`answer`, after `seconds`."""

    seconds: float
    answer: Completion | Status


Answer = Completion | Status | Slow


def say(text: str) -> Completion:
    return Completion({"role": "assistant", "content": text})


def call(tool: str, /, **args: Any) -> Completion:
    return calls((tool, args))


def calls(*tool_calls: tuple[str, dict[str, Any] | str]) -> Completion:
    """One answer with these tool calls; arguments given as a string are sent as they are
    (e.g. not JSON at all)."""
    return Completion(
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": f"call_{next(_ids)}",
                    "type": "function",
                    "function": {
                        "name": name,
                        "arguments": args if isinstance(args, str) else json.dumps(args),
                    },
                }
                for name, args in tool_calls
            ],
        }
    )


def _body(answer: Completion) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{next(_ids)}",
        "object": "chat.completion",
        "created": 0,
        "model": "scripted",
        "choices": [
            {
                "index": 0,
                "message": answer.message,
                "finish_reason": "tool_calls" if answer.message.get("tool_calls") else "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


class OpenAIServer:
    """`with OpenAIServer(say("Hi")) as server:` … `server.url` is the base URL (…/v1)."""

    def __init__(self, *script: Answer) -> None:
        self.script = list(script)
        self.requests: list[dict[str, Any]] = []  # each request's JSON, plus its path and auth
        self.overrun = 0
        self._closing = threading.Event()
        self._lock = threading.Lock()
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with scripted._lock:
                    scripted.requests.append(
                        {"path": self.path, "auth": self.headers.get("Authorization")}
                        | json.loads(body)
                    )
                    answer = scripted._next()
                if isinstance(answer, Slow):
                    if scripted._closing.wait(answer.seconds):
                        return  # the test is over: nobody is listening
                    answer = answer.answer
                if isinstance(answer, Status):
                    self._send(answer.code, answer.body.encode())
                else:
                    self._send(200, json.dumps(_body(answer)).encode())

            def _send(self, code: int, data: bytes) -> None:
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a timeout test)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        self.url = f"http://{self.address}/v1"

    def _next(self) -> Answer:
        if self.script:
            return self.script.pop(0)
        self.overrun += 1
        return Status(500, '{"error": {"message": "the test script ran out"}}')

    def __enter__(self) -> OpenAIServer:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()
        self.server.shutdown()
        self.server.server_close()
