"""Write-back against real ``jupyter-hotconf serve`` processes (docs/write-back.md): two
servers on one config dir racing for one If-Match, a write that the OS refuses
(``RLIMIT_FSIZE``: root cannot bypass it), and random patches (hypothesis) — each either
lands exactly or leaves the file byte-identical with a 4xx that says why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonpatch
import jsonpointer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_hotconf.core.patching import merge_patch
from jupyter_hotconf.core.writelock import read_current
from jupyter_hotconf.pytest_plugin import ServeProcess, wait_until

from .rest import MERGE, race, request, tenant_url

JSONPATCH = "application/json-patch+json"


def test_two_servers_on_one_dir_twenty_patches_one_winner(serve, hotconf_dir: Path) -> None:
    first, second = serve(), serve()  # same JUPYTER_DATA_DIR: same history, same locks
    code, _, headers = request(tenant_url(first))
    tag = headers["ETag"]
    assert request(tenant_url(second))[2]["ETag"] == tag
    answers = race([tenant_url(first if i % 2 else second) for i in range(20)], tag)
    codes = [code for code, _, _ in answers]
    assert sorted(codes) == [200] + [412] * 19, [b for _, b, _ in answers]
    winner = codes.index(200)
    won = answers[winner][1]
    doc = json.loads((hotconf_dir / "private" / "acme.json").read_text())
    assert doc == {"pricing": {"discount": 0.1}, "name": f"writer {winner}"}
    for code, body, _ in answers:
        if code == 412:
            assert (body["revision"], body["checksum"]) == (2, won["checksum"]), body
    for proc in (first, second):  # both apply it as revision 2, written by the API
        wait_until(lambda p=proc: request(tenant_url(p))[1]["revision"] == 2,
                   what="both servers at revision 2")
        history = request(tenant_url(proc) + "/history")[1]["entries"]
        assert [(e["revision"], e["source"]) for e in history] == [(2, "api"), (1, "startup")]


def test_the_os_refusing_the_write_is_a_500_naming_it_and_the_file_survives(
    hotconf_dir: Path,
) -> None:
    # 1 MiB per file for the server process: the history and the log stay far below it.
    proc = ServeProcess(hotconf_dir)
    proc.argv = ["prlimit", f"--fsize={1 << 20}", "--", *proc.argv]
    proc.start()
    try:
        acme = hotconf_dir / "private" / "acme.json"
        before = acme.read_bytes()
        tag = request(tenant_url(proc))[2]["ETag"]
        code, body, _ = request(tenant_url(proc), "PATCH", {"blob": "x" * (2 << 20)},
                                Content_Type=MERGE, If_Match=tag)
        assert code == 500, body
        assert "File too large" in body["message"] and "private/acme.json" in body["message"]
        assert acme.read_bytes() == before
        assert not [p for p in acme.parent.iterdir() if p.name.endswith(".tmp")]
        code, body, _ = request(tenant_url(proc), "PATCH", {"name": "Still here"},
                                Content_Type=MERGE, If_Match=tag)
        assert (code, body["revision"]) == (200, 2)  # the server still serves and writes
    finally:
        proc.stop()


# -- random patches -------------------------------------------------------------------------

KEYS = st.sampled_from(["name", "pricing", "discount", "currency", "features", "beta", "x"])
SCALARS = (st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=6)
           | st.floats(-2, 2, allow_nan=False, allow_infinity=False))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(KEYS, inner, max_size=3), max_leaves=6)
MERGE_PATCHES = st.dictionaries(KEYS, VALUES, max_size=4)
# Mostly paths that tend to exist (so operations apply), some that do not.
POINTERS = st.sampled_from(["/name", "/pricing", "/pricing/discount", "/x", "/features",
                            "/features/beta"]) | st.lists(KEYS, min_size=1, max_size=3).map(
    lambda parts: "/" + "/".join(parts))
ADD = st.builds(lambda p, v: {"op": "add", "path": p, "value": v}, POINTERS, VALUES)
OPERATIONS = st.lists(st.one_of(
    ADD, ADD, ADD,
    st.builds(lambda p, v: {"op": "replace", "path": p, "value": v}, POINTERS, VALUES),
    st.builds(lambda p: {"op": "remove", "path": p}, POINTERS),
    st.builds(lambda p, v: {"op": "test", "path": p, "value": v}, POINTERS, VALUES),
    st.builds(lambda a, b: {"op": "move", "from": a, "path": b}, POINTERS, POINTERS),
    st.builds(lambda a, b: {"op": "copy", "from": a, "path": b}, POINTERS, POINTERS),
), min_size=1, max_size=2)
PROPERTY = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def check_patch(proc: ServeProcess, config_dir: Path, kind: str, patch: Any,
                expected: Any) -> None:
    """Send ``patch``; the file must then hold ``expected`` (valid), or be untouched with a
    4xx naming the reason. ``expected`` None: the patch cannot apply."""
    acme = config_dir / "private" / "acme.json"
    before = acme.read_bytes()
    tag = request(tenant_url(proc))[2]["ETag"]
    code, body, _ = request(tenant_url(proc), "PATCH", patch, Content_Type=kind, If_Match=tag)
    if code == 200:
        assert expected is not None
        current = read_current(config_dir, "acme")
        assert current.error is None and current.document == expected
        assert current.checksum == body["checksum"]
        assert request(tenant_url(proc) + "?view=document")[1]["document"] == expected
    else:
        assert code in (409, 413, 422), (code, body)
        assert body["message"]
        assert acme.read_bytes() == before
        if code == 422 and "error" in body:
            assert body["error"]["file"] and body["error"]["message"]


def test_random_merge_patches_land_exactly_or_not_at_all(serve, hotconf_dir: Path) -> None:
    proc = serve()

    @PROPERTY
    @given(patch=MERGE_PATCHES)
    def prop(patch: dict[str, Any]) -> None:
        current = read_current(hotconf_dir, "acme").document
        check_patch(proc, hotconf_dir, MERGE, patch, merge_patch(current, patch))

    prop()


def test_random_json_patches_land_exactly_or_not_at_all(serve, hotconf_dir: Path) -> None:
    proc = serve()

    @PROPERTY
    @given(ops=OPERATIONS)
    def prop(ops: list[dict[str, Any]]) -> None:
        current = read_current(hotconf_dir, "acme").document
        try:
            expected = jsonpatch.apply_patch(current, ops)
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException, KeyError,
                IndexError, TypeError):
            expected = None
        check_patch(proc, hotconf_dir, JSONPATCH, ops, expected)

    prop()
