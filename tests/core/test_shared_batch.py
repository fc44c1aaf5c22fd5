"""``defaults.*`` and ``schema.json`` are read once per batch of tenant loads
(``load_shared``), with the same results as reading them per tenant, and an edit to them
after a batch is still always seen — including a same-size rewrite in place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_watcher_support import KINDS, watching

from jupyter_hotconf.core import documents
from jupyter_hotconf.core.loading import load_shared, load_tenant
from jupyter_hotconf.core.tenants import ConfigLayout
from jupyter_hotconf.pytest_plugin import EXAMPLE_DEFAULTS, write_json

BROKEN: dict[str, tuple[str, str]] = {
    "valid": ("", ""),
    "defaults not JSON": ("defaults.json", "{ nope"),
    "schema not a schema": ("schema.json", '{"type": 12}'),
    "defaults fail the schema": ("defaults.json", '{\n  "pricing": {"discount": 7}\n}'),
    "two defaults": ("defaults.yaml", "pricing: {currency: EUR}\n"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_shared_gives_what_loading_alone_gives(hotconf_dir: Path, case: str) -> None:
    name, text = BROKEN[case]
    if name:
        (hotconf_dir / name).write_text(text, encoding="utf-8")
    write_json(hotconf_dir / "private" / "bare.json", {"name": "Bare"})  # takes defaults' value
    layout = ConfigLayout(hotconf_dir)
    shared = load_shared(layout)
    for tenant in ("acme", "globex", "bare", "nobody"):
        alone = load_tenant(layout, tenant)
        assert load_tenant(layout, tenant, shared=shared) == alone
        failing = {"valid": set(), "defaults fail the schema": {"bare"}}.get(
            case, {"acme", "globex", "bare"}
        )
        assert (alone.error is not None) == (tenant in failing)
    if case == "defaults fail the schema":
        error = load_tenant(layout, "bare", shared=shared).error
        assert error is not None and (error.file, error.line) == ("defaults.json", 2)


def _count_reads(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    reads: dict[str, int] = {}
    real = documents.read_stable

    def counting(path: Path, **kw: Any) -> bytes:
        reads[path.name] = reads.get(path.name, 0) + 1
        return real(path, **kw)

    monkeypatch.setattr(documents, "read_stable", counting)
    return reads


def test_cold_load_reads_defaults_and_schema_once(
    hotconf_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(20):
        write_json(hotconf_dir / "private" / f"t{n}.json", {"name": f"T{n}"})
    reads = _count_reads(monkeypatch)
    with watching(hotconf_dir, "native") as h:
        assert len(h.store.tenant_ids()) == 22
        assert reads == {"defaults.json": 1, "schema.json": 1, "acme.json": 1,
                         "globex.json": 1, **{f"t{n}.json": 1 for n in range(20)}}
        assert h.config("t3") == {**EXAMPLE_DEFAULTS, "name": "T3"}


def _defaults_text(currency: str) -> str:
    return json.dumps({**EXAMPLE_DEFAULTS, "pricing": {"currency": currency, "discount": 0.0}})


@pytest.mark.parametrize("kind", KINDS)
def test_defaults_edit_after_a_batch_is_seen_even_same_size_in_place(
    hotconf_dir: Path, kind: str
) -> None:
    defaults = hotconf_dir / "defaults.json"
    defaults.write_text(_defaults_text("USD"), encoding="utf-8")
    before = defaults.stat()
    with watching(hotconf_dir, kind) as h:
        assert h.config("globex")["pricing"]["currency"] == "USD"  # type: ignore[index]
        for currency in ("EUR", "GBP", "USD"):  # same length each time, same inode
            with open(defaults, "r+", encoding="utf-8") as fh:
                fh.write(_defaults_text(currency))
            after = defaults.stat()
            assert (after.st_size, after.st_ino) == (before.st_size, before.st_ino)
            h.wait_for("globex", "modified", lambda c, cur=currency: _currency(c.new) == cur)
        assert _currency(h.config("acme")) == "USD"


def _currency(config: dict[str, Any] | None) -> object:
    return (config or {}).get("pricing", {}).get("currency")
