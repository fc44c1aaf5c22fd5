"""Loading one tenant from a config dir: defaults merged under it, schema over the result,
two files for one tenant, containment (docs/config-files.md, docs/change-detection.md)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from jupyter_hotconf.core.errors import InvalidTenant
from jupyter_hotconf.core.loading import LoadResult, load_tenant
from jupyter_hotconf.core.tenants import ConfigLayout
from jupyter_hotconf.pytest_plugin import write_json

# ----------------------------------------------------------------- load_tenant


@pytest.fixture
def layout(hotconf_dir: Path) -> ConfigLayout:
    return ConfigLayout(hotconf_dir)


def test_load_tenant_merges_defaults_under_the_tenant(layout: ConfigLayout) -> None:
    result = load_tenant(layout, "acme")
    assert result.exists and result.error is None
    assert result.config == {"pricing": {"currency": "USD", "discount": 0.1},
                             "features": {"beta": False}, "name": "Acme"}


def test_load_tenant_without_file(layout: ConfigLayout) -> None:
    assert load_tenant(layout, "nobody") == LoadResult("nobody", exists=False)


def test_load_tenant_refuses_bad_ids(layout: ConfigLayout) -> None:
    with pytest.raises(InvalidTenant):
        load_tenant(layout, "../private/acme")


def test_two_files_for_one_tenant_error_names_both(layout: ConfigLayout) -> None:
    (layout.private_dir / "acme.yaml").write_text("name: Acme\n")
    err = load_tenant(layout, "acme").error
    assert err is not None and err.file == "private/acme.json"
    assert "private/acme.json" in err.message and "private/acme.yaml" in err.message


def test_schema_error_names_tenant_file_pointer_and_line(layout: ConfigLayout) -> None:
    path = layout.private_dir / "acme.json"
    path.write_text('{\n  "name": "Acme",\n  "pricing": {\n    "discount": 5\n  }\n}\n')
    err = load_tenant(layout, "acme").error
    assert err is not None
    assert (err.file, err.pointer, err.line, err.column) == (
        "private/acme.json", "/pricing/discount", 4, 5)
    assert str(err).startswith("private/acme.json:4:5: error: 5 is greater than the maximum")


def test_schema_error_in_yaml_tenant_has_line(layout: ConfigLayout) -> None:
    (layout.private_dir / "acme.json").unlink()
    (layout.private_dir / "acme.yaml").write_text("name: Acme\npricing:\n  discount: 7\n")
    err = load_tenant(layout, "acme").error
    assert err is not None and (err.file, err.line, err.pointer) == (
        "private/acme.yaml", 3, "/pricing/discount")


def test_schema_error_from_a_default_names_the_defaults_file(layout: ConfigLayout) -> None:
    write_json(layout.root / "defaults.json", {"pricing": {"currency": 5}})
    err = load_tenant(layout, "acme").error
    assert err is not None and (err.file, err.pointer) == ("defaults.json", "/pricing/currency")
    assert err.line == 3


def test_defaults_parse_error_names_defaults(layout: ConfigLayout) -> None:
    (layout.root / "defaults.json").write_text('{"a": 1,}')
    err = load_tenant(layout, "acme").error
    assert err is not None and err.file == "defaults.json" and err.line == 1


def test_two_defaults_files_refused(layout: ConfigLayout) -> None:
    (layout.root / "defaults.yaml").write_text("a: 1\n")
    err = load_tenant(layout, "acme").error
    assert err is not None and err.file == "defaults.json" and "defaults.yaml" in err.message


def test_schema_parse_error_and_invalid_schema_name_schema_json(layout: ConfigLayout) -> None:
    (layout.root / "schema.json").write_text('{"type": "object",\n "type": "array"}')
    err = load_tenant(layout, "acme").error
    assert err is not None and (err.file, err.line) == ("schema.json", 2)
    (layout.root / "schema.json").write_text('{\n  "properties": {\n    "a": {"type": 7}\n  }\n}')
    err = load_tenant(layout, "acme").error
    assert err is not None and err.file == "schema.json"
    assert "invalid JSON Schema" in err.message and err.line == 3


def test_tenant_symlink_leaving_the_config_dir_refused(
    layout: ConfigLayout, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps({"password": "x"}))
    link = layout.private_dir / "evil.json"
    link.symlink_to(secret)
    err = load_tenant(layout, "evil").error
    assert err is not None and err.file == "private/evil.json"
    assert "outside the config dir" in err.message and str(secret) in err.message


def test_kubernetes_configmap_tenant_loads(tmp_path: Path) -> None:
    private = tmp_path / "configs" / "private"
    stamp = private / "..2026_11_26_10_00_00.000000001"
    stamp.mkdir(parents=True)
    (stamp / "acme.json").write_text('{"name": "Acme"}')
    os.symlink(stamp.name, private / "..data")
    os.symlink("..data/acme.json", private / "acme.json")
    result = load_tenant(ConfigLayout(tmp_path / "configs"), "acme")
    assert result.config == {"name": "Acme"}
