"""Tenant-id rule, file ↔ tenant mapping, editor junk and symlink containment
(docs/config-files.md)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jupyter_hotconf.core.errors import InvalidTenant
from jupyter_hotconf.core.tenants import (
    ConfigLayout,
    is_junk_name,
    is_k8s_entry,
    is_valid_tenant_id,
    tenant_allowed,
    validate_tenant_id,
)

REFUSED = {
    "dot-dot": "..",
    "slash": "a/b",
    "backslash": "a\\b",
    "nul": "acme\x00",
    "trailing newline": "acme\n",
    "65 chars": "a" * 65,
    "space": "acme corp",
    "leading space": " acme",
    "fullwidth": "ａｃｍｅ",  # noqa: RUF001 - the look-alike is the point
    "cyrillic a": "\u0430cme",
    "fullwidth digit": "acme\uff11",
    "percent traversal": "%2e%2e%2f",
    "leading dash": "-acme",
    "leading underscore": "_acme",
    "dot": "acme.json",
    "empty": "",
}


@pytest.mark.parametrize("raw", list(REFUSED.values()), ids=list(REFUSED))
def test_refused_tenant_ids(raw: str) -> None:
    with pytest.raises(InvalidTenant) as info:
        validate_tenant_id(raw)
    assert info.value.reason  # a person learns why
    assert not is_valid_tenant_id(raw)
    assert not is_valid_tenant_id(raw.encode("utf-8"))


@pytest.mark.parametrize("raw", ["acme", "A", "0", "a-b_c", "Tenant42", "a" * 64])
def test_accepted_tenant_ids(raw: str) -> None:
    assert validate_tenant_id(raw) == raw
    assert validate_tenant_id(raw.encode("ascii")) == raw


def test_bytes_are_strict_ascii() -> None:
    with pytest.raises(InvalidTenant, match="non-ASCII"):
        validate_tenant_id("acmé".encode())
    assert not is_valid_tenant_id(None)
    assert not is_valid_tenant_id(42)


def test_reason_names_the_problem() -> None:
    with pytest.raises(InvalidTenant, match="65 characters"):
        validate_tenant_id("a" * 65)
    with pytest.raises(InvalidTenant, match="'/'"):
        validate_tenant_id("a/b")


def test_tenant_allowed_globs() -> None:
    assert tenant_allowed("acme", ["*"])
    assert tenant_allowed("team-a1", ["team-*", "x"])
    assert not tenant_allowed("globex", ["team-*"])
    assert not tenant_allowed("ACME", ["acme"])  # case-sensitive, like the file names
    assert not tenant_allowed("acme", [])


@pytest.mark.parametrize(
    "name",
    [".acme.json.swp", ".acme.json.swx", "acme.json~", ".#acme.json", "#acme.json#", "4913",
     "acme.json.tmp", "sedAbC123", "sed8xYz0q", ".hidden.json", ".ipynb_checkpoints"],
)
def test_junk_names(name: str) -> None:
    assert is_junk_name(name)


@pytest.mark.parametrize("name", ["acme.json", "sedona.json", "4913.json", "..data", "..2026_11"])
def test_not_junk(name: str) -> None:
    assert not is_junk_name(name)


def test_k8s_entries() -> None:
    assert is_k8s_entry("..data")
    assert is_k8s_entry("..2026_11_26_10_00_00.123456789")
    assert not is_k8s_entry("..")
    assert not is_k8s_entry(".data")


def _touch(path: Path, text: str = "{}") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_only_direct_children_of_private_are_tenants(tmp_path: Path) -> None:
    layout = ConfigLayout(tmp_path)
    _touch(tmp_path / "private" / "acme.json")
    _touch(tmp_path / "private" / "globex.yaml")
    _touch(tmp_path / "private" / ".ipynb_checkpoints" / "acme-checkpoint.json")
    _touch(tmp_path / "private" / ".ipynb_checkpoints" / "initech.json")
    _touch(tmp_path / "private" / "sub" / "hooli.json")
    _touch(tmp_path / "private" / "notes.txt")
    _touch(tmp_path / "private" / "bad name.json")
    _touch(tmp_path / "private" / ".acme.json.swp")
    (tmp_path / "private" / "dir.json").mkdir()
    assert layout.scan_tenants() == {
        "acme": [tmp_path / "private" / "acme.json"],
        "globex": [tmp_path / "private" / "globex.yaml"],
    }
    checkpoint = tmp_path / "private" / ".ipynb_checkpoints" / "initech.json"
    assert layout.tenant_of(checkpoint) is None
    assert layout.classify(checkpoint) == "other"
    assert layout.tenant_of(tmp_path / "private" / "sub" / "hooli.json") is None
    assert layout.tenant_of(tmp_path / "private" / "acme.json") == "acme"
    assert layout.tenant_of(tmp_path / "private" / "gone.toml") == "gone"  # deleted files map too
    assert layout.tenant_of(tmp_path / "acme.json") is None
    assert layout.tenant_of(tmp_path / "private" / "acme.json~") is None


def test_scan_without_private_dir(tmp_path: Path) -> None:
    assert ConfigLayout(tmp_path / "missing").scan_tenants() == {}
    assert ConfigLayout(tmp_path).tenant_files("acme") == []


def test_tenant_files_refuses_bad_ids_before_touching_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidTenant):
        ConfigLayout(tmp_path).tenant_files("../etc/passwd")


def test_two_files_for_one_tenant_are_both_listed(tmp_path: Path) -> None:
    a = _touch(tmp_path / "private" / "acme.json")
    b = _touch(tmp_path / "private" / "acme.toml")
    layout = ConfigLayout(tmp_path)
    assert layout.tenant_files("acme") == [a, b]
    assert layout.scan_tenants() == {"acme": [a, b]}


def test_classify(tmp_path: Path) -> None:
    layout = ConfigLayout(tmp_path)
    assert layout.classify(tmp_path) == "root"
    assert layout.classify(tmp_path / "private") == "private_dir"
    assert layout.classify(tmp_path / "private" / "acme.yml") == "tenant"
    assert layout.classify(tmp_path / "defaults.toml") == "defaults"
    assert layout.classify(tmp_path / "schema.json") == "schema"
    assert layout.classify(tmp_path / "schema.yaml") == "other"
    assert layout.classify(tmp_path / "..data") == "k8s"
    assert layout.classify(tmp_path / "private" / "..data" / "acme.json") == "k8s"
    assert layout.classify(tmp_path / "private" / "..2026_11_26" / "acme.json") == "k8s"
    assert layout.classify(tmp_path.parent / "elsewhere.json") == "other"
    assert layout.relname(tmp_path / "private" / "acme.json") == "private/acme.json"


def test_paths_given_after_realpath_map_too(tmp_path: Path) -> None:
    real = tmp_path / "real"
    (real / "private").mkdir(parents=True)
    link = tmp_path / "link"
    link.symlink_to(real)
    layout = ConfigLayout(link)
    assert layout.tenant_of(real / "private" / "acme.json") == "acme"
    assert layout.relname(real / "private" / "acme.json") == "private/acme.json"


def test_defaults_and_schema_files(tmp_path: Path) -> None:
    layout = ConfigLayout(tmp_path)
    assert layout.defaults_files() == [] and layout.schema_file() is None
    d1 = _touch(tmp_path / "defaults.json")
    d2 = _touch(tmp_path / "defaults.yml")
    s = _touch(tmp_path / "schema.json")
    assert layout.defaults_files() == [d1, d2]
    assert layout.schema_file() == s


def test_symlink_leaving_the_config_dir_is_not_contained(tmp_path: Path) -> None:
    root = tmp_path / "configs"
    outside = _touch(tmp_path / "secret.json")
    link = root / "private" / "acme.json"
    link.parent.mkdir(parents=True)
    link.symlink_to(outside)
    layout = ConfigLayout(root)
    assert not layout.is_contained(link)
    # a sibling dir whose name starts with the root's name is still outside
    sneaky = _touch(tmp_path / "configs-evil" / "x.json")
    assert not layout.is_contained(sneaky)


def test_kubernetes_configmap_links_are_contained(tmp_path: Path) -> None:
    root = tmp_path / "configs"
    private = root / "private"
    stamp = private / "..2026_11_26_10_00_00.000000001"
    _touch(stamp / "acme.json", '{"a": 1}')
    os.symlink(stamp.name, private / "..data")
    os.symlink("..data/acme.json", private / "acme.json")
    layout = ConfigLayout(root)
    assert layout.is_contained(private / "acme.json")
    assert layout.scan_tenants() == {"acme": [private / "acme.json"]}


def test_config_root_behind_a_symlink_is_contained(tmp_path: Path) -> None:
    real = tmp_path / "real"
    f = _touch(real / "private" / "acme.json")
    link = tmp_path / "configs"
    link.symlink_to(real)
    layout = ConfigLayout(link)
    assert layout.is_contained(link / "private" / "acme.json")
    assert layout.is_contained(f)


_ALLOWED = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


@given(st.text(max_size=70) | st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,70}", fullmatch=True))
def test_accepted_ids_are_exactly_the_rule(raw: str) -> None:
    expected = (
        1 <= len(raw) <= 64 and set(raw) <= _ALLOWED and raw[0] not in "_-"
    )
    assert is_valid_tenant_id(raw) is expected
    if expected:  # nothing that could walk a path ever passes
        assert "/" not in raw and ".." not in raw and "\n" not in raw and "\x00" not in raw
