"""Blocking HTTP helpers for tests that drive real server processes over REST: a request
that returns status, JSON body and headers, a tenant's URL, and a race of PATCHes released
at once with one If-Match (docs/write-back.md)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from jupyter_hotconf.pytest_plugin import DEADLINE_S, ServeProcess

MERGE = "application/merge-patch+json"


def request(url: str, method: str = "GET", body: Any = None,
            **headers: str) -> tuple[int, Any, Any]:
    data = None if body is None else json.dumps(body).encode()
    hdrs = {k.replace("_", "-"): v for k, v in headers.items()}
    req = urllib.request.Request(url, data=data, headers=hdrs, method=method)
    try:
        with urllib.request.urlopen(req, timeout=DEADLINE_S) as r:
            return r.status, json.loads(r.read()), r.headers
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null"), err.headers


def tenant_url(proc: ServeProcess, tenant: str = "acme") -> str:
    return f"{proc.base}api/tenants/{tenant}"


def race(urls: list[str], tag: str) -> list[tuple[int, Any, Any]]:
    """One PATCH per url, all released at once, each with the same If-Match."""
    barrier = threading.Barrier(len(urls))

    def one(i: int) -> tuple[int, Any, Any]:
        barrier.wait(DEADLINE_S)
        return request(urls[i], "PATCH", {"name": f"writer {i}"}, Content_Type=MERGE,
                       If_Match=tag)

    with ThreadPoolExecutor(len(urls)) as pool:
        return list(pool.map(one, range(len(urls))))
