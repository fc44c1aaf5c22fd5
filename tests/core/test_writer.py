"""The writer on real files: validate first, write atomically, keep the file's format and the
lines an edit did not touch (docs/history.md)."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest

from jupyter_hotconf.core.documents import checksum, parse_document
from jupyter_hotconf.core.errors import InvalidDocument, InvalidTenant
from jupyter_hotconf.core.loading import load_tenant
from jupyter_hotconf.core.tenants import ConfigLayout
from jupyter_hotconf.core.writer import (
    prepare_write,
    read_own_document,
    remove_document,
    write_document,
)
from jupyter_hotconf.pytest_plugin import wait_until

YAML_TEXT = """\
# Acme's settings; owned by the pricing team
name: Acme   # shown in the UI
pricing:
    # reviewed every quarter
    discount: 0.1   # ten percent
    currency: 'EUR'
tags:
  - gold
  - "early adopter"
since: 2024-01-01
"""

TOML_TEXT = """\
# Acme's settings
name = "Acme"  # shown in the UI
since = 2024-01-01

[pricing]
# reviewed every quarter
discount = 0.1  # ten percent
currency = 'EUR'

[features]
beta = false
"""


def _changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    """Pairs of lines that differ (both texts must have as many lines)."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    assert len(old) == len(new), after
    return [(a, b) for a, b in zip(old, new, strict=True) if a != b]


def _own(root: Path, name: str) -> dict[str, object]:
    return parse_document((root / "private" / name).read_bytes(), file=name)


# ---------------------------------------------------------------- formats


def test_json_is_rewritten_with_two_spaces_in_the_new_key_order(hotconf_dir: Path) -> None:
    document = {"name": "Acme", "pricing": {"discount": 0.3, "currency": "€"}}
    result = write_document(hotconf_dir, "acme", document)
    text = (hotconf_dir / "private" / "acme.json").read_text(encoding="utf-8")
    assert text == json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    assert (result.file, result.created) == ("private/acme.json", False)
    loaded = load_tenant(ConfigLayout(hotconf_dir), "acme")
    assert loaded.config == result.config and checksum(loaded.config) == result.checksum


def test_yaml_keeps_comments_quotes_and_layout_of_untouched_lines(hotconf_dir: Path) -> None:
    (hotconf_dir / "private" / "acme.json").unlink()
    path = hotconf_dir / "private" / "acme.yaml"
    path.write_text(YAML_TEXT)
    document = _own(hotconf_dir, "acme.yaml")
    document["pricing"]["discount"] = 0.25  # type: ignore[index]
    result = write_document(hotconf_dir, "acme", document)
    after = path.read_text()
    assert _changed_lines(YAML_TEXT, after) == [
        ("    discount: 0.1   # ten percent\n", "    discount: 0.25  # ten percent\n")
    ]
    assert result.file == "private/acme.yaml"
    assert load_tenant(ConfigLayout(hotconf_dir), "acme").config == result.config


def test_yaml_added_and_removed_keys_leave_the_rest_alone(hotconf_dir: Path) -> None:
    (hotconf_dir / "private" / "acme.json").unlink()
    path = hotconf_dir / "private" / "acme.yaml"
    path.write_text(YAML_TEXT)
    document = _own(hotconf_dir, "acme.yaml")
    del document["tags"]
    document["region"] = "eu"
    write_document(hotconf_dir, "acme", document)
    after = path.read_text()
    kept = [line for line in YAML_TEXT.splitlines() if "gold" not in line and "early" not in line]
    assert after.splitlines() == [*(k for k in kept if not k.startswith("tags")), "region: eu"]
    assert _own(hotconf_dir, "acme.yaml") == document


def test_toml_keeps_comments_and_layout_of_untouched_lines(hotconf_dir: Path) -> None:
    (hotconf_dir / "private" / "acme.json").unlink()
    path = hotconf_dir / "private" / "acme.toml"
    path.write_text(TOML_TEXT)
    document = _own(hotconf_dir, "acme.toml")
    assert document["since"] == "2024-01-01"  # dates are ISO strings in a config …
    document["features"]["beta"] = True  # type: ignore[index]
    write_document(hotconf_dir, "acme", document)
    after = path.read_text()
    # … and an untouched date stays a TOML date, not a quoted string
    assert _changed_lines(TOML_TEXT, after) == [("beta = false\n", "beta = true\n")]


def test_toml_new_key_and_null_refused(hotconf_dir: Path) -> None:
    (hotconf_dir / "private" / "acme.json").unlink()
    path = hotconf_dir / "private" / "acme.toml"
    path.write_text(TOML_TEXT)
    document = _own(hotconf_dir, "acme.toml")
    document["pricing"]["tier"] = "gold"  # type: ignore[index]
    write_document(hotconf_dir, "acme", document)
    assert _own(hotconf_dir, "acme.toml") == document
    assert "# reviewed every quarter\n" in path.read_text()
    before = path.read_bytes()
    document["pricing"]["tier"] = None  # type: ignore[index]
    with pytest.raises(InvalidDocument) as info:
        write_document(hotconf_dir, "acme", document)
    assert (info.value.file, info.value.pointer) == ("private/acme.toml", "/pricing/tier")
    assert path.read_bytes() == before


def test_a_new_tenant_is_written_as_json(tmp_path: Path) -> None:
    result = write_document(tmp_path / "configs", "initech", {"name": "Initech"})
    path = tmp_path / "configs" / "private" / "initech.json"
    assert result.created and result.path == path
    assert json.loads(path.read_text()) == {"name": "Initech"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert read_own_document(tmp_path / "configs", "initech") == {"name": "Initech"}
    assert read_own_document(tmp_path / "configs", "nobody") is None


def test_an_unparsable_yaml_file_is_replaced_whole(hotconf_dir: Path) -> None:
    (hotconf_dir / "private" / "acme.json").unlink()
    path = hotconf_dir / "private" / "acme.yml"
    path.write_text("name: [unclosed\n")
    write_document(hotconf_dir, "acme", {"name": "Acme"})
    assert path.read_text() == "name: Acme\n"


# ---------------------------------------------------------------- validation


def test_schema_violation_names_file_line_and_pointer_and_writes_nothing(
    hotconf_dir: Path,
) -> None:
    (hotconf_dir / "private" / "acme.json").unlink()
    path = hotconf_dir / "private" / "acme.yaml"
    path.write_text(YAML_TEXT)
    before, inode = path.read_bytes(), path.stat().st_ino
    document = _own(hotconf_dir, "acme.yaml")
    document["pricing"]["discount"] = 5  # type: ignore[index]  # schema: maximum 1
    with pytest.raises(InvalidDocument) as info:
        write_document(hotconf_dir, "acme", document)
    err = info.value
    assert (err.file, err.line, err.pointer) == ("private/acme.yaml", 5, "/pricing/discount")
    assert "5" in err.message
    assert path.read_bytes() == before and path.stat().st_ino == inode
    assert sorted(os.listdir(path.parent)) == ["acme.yaml", "globex.json"]  # no temp left


def test_a_bad_default_is_blamed_on_the_defaults_file(hotconf_dir: Path) -> None:
    (hotconf_dir / "defaults.json").write_text('{\n  "pricing": {"discount": 7}\n}\n')
    with pytest.raises(InvalidDocument) as info:
        prepare_write(hotconf_dir, "acme", {"name": "Acme"})
    assert (info.value.file, info.value.line, info.value.pointer) == (
        "defaults.json", 2, "/pricing/discount"
    )


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (["not", "an", "object"], "must be an object"),
        ({"deep": json.loads("[" * 120 + "]" * 120)}, "nesting deeper"),
        ({"bad": float("nan")}, "NaN"),
        ({"big": "x" * 2000}, "over the limit"),
    ],
)
def test_refused_documents_touch_nothing(
    hotconf_dir: Path, document: object, message: str
) -> None:
    path = hotconf_dir / "private" / "acme.json"
    before = path.read_bytes()
    with pytest.raises(InvalidDocument, match=message) as info:
        write_document(hotconf_dir, "acme", document, max_file_bytes=1000)  # type: ignore[arg-type]
    assert info.value.file == "private/acme.json"
    assert path.read_bytes() == before


def test_two_files_for_one_tenant_and_bad_ids_are_refused(hotconf_dir: Path) -> None:
    (hotconf_dir / "private" / "acme.yaml").write_text("name: Acme\n")
    with pytest.raises(InvalidDocument, match=r"acme\.json and private/acme\.yaml"):
        write_document(hotconf_dir, "acme", {"name": "x"})
    with pytest.raises(InvalidTenant):
        write_document(hotconf_dir, "../escape", {"name": "x"})
    assert not (hotconf_dir / "escape.json").exists()


# ---------------------------------------------------------------- the file


def test_mode_and_symlink_survive_a_write(hotconf_dir: Path) -> None:
    real = hotconf_dir / "shared" / "acme-v2.json"
    real.parent.mkdir()
    os.replace(hotconf_dir / "private" / "acme.json", real)
    real.chmod(0o640)
    link = hotconf_dir / "private" / "acme.json"
    link.symlink_to(real)
    result = write_document(hotconf_dir, "acme", {"name": "Linked"})
    assert link.is_symlink() and result.path == real and result.file == "private/acme.json"
    assert json.loads(real.read_text()) == {"name": "Linked"}
    assert stat.S_IMODE(real.stat().st_mode) == 0o640


def test_remove_document(hotconf_dir: Path) -> None:
    assert remove_document(hotconf_dir, "acme") is True
    assert not (hotconf_dir / "private" / "acme.json").exists()
    assert remove_document(hotconf_dir, "acme") is False


def test_a_concurrent_reader_never_sees_a_partial_file(hotconf_dir: Path) -> None:
    """Many writes of a large and a small document while a thread parses the file in a loop:
    every read is one whole document (a plain truncate-and-write fails this at once)."""
    path = hotconf_dir / "private" / "acme.json"
    big = {"name": "Big", "rows": [{"i": i, "text": "y" * 50} for i in range(400)]}
    small = {"name": "Small"}
    stop = threading.Event()
    reads: list[str] = []
    problems: list[Exception] = []

    def reader() -> None:
        while not stop.is_set():
            try:
                reads.append(str(parse_document(path.read_bytes(), file="acme.json")["name"]))
            except Exception as exc:
                problems.append(exc)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        wait_until(lambda: reads, what="the reader's first read")
        for n in range(150):
            write_document(hotconf_dir, "acme", big if n % 2 else small)
    finally:
        stop.set()
        thread.join()
    assert problems == []
    assert {"Big", "Small"} <= set(reads)
