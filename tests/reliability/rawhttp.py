"""Raw HTTP/1.1 over a socket, for requests no HTTP client library would send
(bytes that are not UTF-8 in headers, lying lengths, broken chunking), and
small readers of what the server answers and counts."""
from __future__ import annotations

import json
import socket
import time
import urllib.request
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)   # lower-cased names; repeats joined by \n
    body: bytes = b""

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip()

    def json(self):
        return json.loads(self.body)


def request_bytes(method: bytes, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes = b"",
                  *, length: bytes | None = None, close: bool = True) -> bytes:
    """One request; ``Content-Length`` is the body's unless *length* says otherwise
    (``b""``: none at all)."""
    lines = [method + b" " + target + b" HTTP/1.1"]
    if not any(name.lower() == b"host" for name, _ in headers):
        lines.append(b"Host: 127.0.0.1")
    if close:
        lines.append(b"Connection: close")
    lines += [name + b": " + value for name, value in headers]
    if length is None:
        length = str(len(body)).encode() if body or method in (b"POST", b"PUT", b"PATCH") else b""
    if length:
        lines.append(b"Content-Length: " + length)
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def parse_answer(data: bytes) -> Answer | None:
    """The first answer in *data* (None when the server sent nothing)."""
    if not data:
        return None
    while data.startswith(b"HTTP/1.1 1"):   # an interim answer (100 Continue): the real one follows
        data = data.partition(b"\r\n\r\n")[2]
    if not data:
        return None
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower().decode("latin-1"), value.strip().decode("utf-8", "replace")
        headers[name] = headers[name] + "\n" + value if name in headers else value
    if "content-length" in headers:
        body = body[:int(headers["content-length"])]
    return Answer(status, headers, body)


def exchange(port: int, raw: bytes, *, close_after: float | None = None, timeout: float = 15) -> Answer | None:
    """Send *raw* and read until the server closes. With *close_after*, the
    client closes the connection that many seconds after sending (a body
    that never finishes) and reads nothing."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(raw)
        except (BrokenPipeError, ConnectionResetError):   # the server answered early and closed
            pass
        if close_after is not None:
            time.sleep(close_after)
            return None
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except ConnectionResetError:
            pass
    return parse_answer(data)


def has_error_shape(body) -> bool:
    """The one error shape of moderation.errors (extra keys allowed beside the three)."""
    if not (isinstance(body, dict) and set(body) == {"error"} and isinstance(body["error"], dict)):
        return False
    error = body["error"]
    return (isinstance(error.get("code"), str) and isinstance(error.get("message"), str)
            and error["message"] != "" and isinstance(error.get("fields"), list)
            and all({"field", "code", "message"} <= set(f) for f in error["fields"]))


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    """Every sample of /metrics, by (name, sorted labels)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def sample(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def statuses_counted(samples: dict) -> dict[int, float]:
    """``moderation_http_requests_total`` summed by status."""
    counted: dict[int, float] = {}
    for (name, labels), value in samples.items():
        if name == "moderation_http_requests_total":
            status = int(dict(labels)["status"])
            counted[status] = counted.get(status, 0.0) + value
    return counted
