"""Strict parsing rules, merge semantics and schema errors (docs/change-detection.md).

One test per strict rule; every refusal is checked for its file, line/column (where the
format gives one) and a message a person understands.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from jupyter_hotconf.core import reading
from jupyter_hotconf.core.documents import (
    canonical_json,
    checksum,
    deep_merge,
    parse_document,
    read_document,
)
from jupyter_hotconf.core.errors import InvalidDocument
from jupyter_hotconf.core.schema import validate_schema


def refused(data: bytes | str, file: str = "private/acme.json", **kw: Any) -> InvalidDocument:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with pytest.raises(InvalidDocument) as info:
        parse_document(raw, file=file, **kw)
    assert info.value.file == file
    return info.value


# ----------------------------------------------------------------- JSON


def test_json_nan_refused_with_position() -> None:
    err = refused('{\n  "a": 1,\n  "b": NaN\n}')
    assert (err.line, err.column) == (3, 3)
    assert "NaN" in err.message


@pytest.mark.parametrize("token", ["Infinity", "-Infinity"])
def test_json_infinity_refused(token: str) -> None:
    err = refused(f'{{"a": {token}}}')
    assert err.line == 1 and token in err.message


def test_json_overflowing_number_refused() -> None:
    err = refused('{"a": {\n "b": 1e999}}')
    assert err.pointer == "/a/b" and err.line == 2


def test_json_duplicate_key_refused_at_the_duplicate() -> None:
    text = '{\n  "pricing": {"discount": 1},\n  "other": {"discount": 2,\n    "discount": 3}\n}'
    err = refused(text)
    assert (err.line, err.column) == (4, 5)
    assert str(err) == 'private/acme.json:4:5: error: duplicate key "discount"'


def test_json_syntax_error_has_line_and_column() -> None:
    err = refused('{\n  "a": 1,\n  "b": }\n')
    assert (err.line, err.column) == (3, 8)


# ----------------------------------------------------------------- YAML


def test_yaml_duplicate_key_refused() -> None:
    err = refused("pricing:\n  discount: 1\n  discount: 2\n", file="private/globex.yaml")
    assert (err.line, err.column) == (3, 3)
    assert 'duplicate key "discount"' in err.message and "line 2" in err.message


@pytest.mark.parametrize("key", ["1", "true", "null", "2024-01-01", "[a, b]"])
def test_yaml_non_string_key_refused(key: str) -> None:
    err = refused(f"ok: 1\n{key}: x\n", file="private/globex.yaml")
    assert err.line == 2 and "keys must be strings" in err.message


def test_yaml_merge_key_is_not_a_duplicate() -> None:
    text = "base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n"
    assert parse_document(text.encode(), file="d.yaml")["other"] == {"x": 1, "y": 3}


@pytest.mark.parametrize(
    "value",
    ["!!python/object/apply:os.system ['true']", "!!python/name:os.system", "!custom 1"],
)
def test_yaml_unsafe_tag_refused_with_line(value: str) -> None:
    err = refused(f"a: 1\nb: {value}\n", file="private/globex.yml")
    assert (err.line, err.column) == (2, 4)
    assert "not allowed" in err.message and "tag:yaml.org" not in err.message


@pytest.mark.parametrize("value", ["!!binary aGk=", "!!set {a: null}", ".nan", "-.inf"])
def test_yaml_values_json_cannot_carry_refused(value: str) -> None:
    err = refused(f"a: {value}\n", file="x.yaml")
    assert err.line == 1 and "not allowed" in err.message


def test_yaml_alias_bomb_refused_quickly() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [{', '.join(['*' + prev] * 9)}]")
    err = refused("\n".join(lines) + "\n", file="private/bomb.yaml")
    assert "alias" in err.message and err.line is not None


def test_yaml_recursive_alias_refused() -> None:
    err = refused("a: &a [1, *a]\n", file="x.yaml")
    assert "recursive" in err.message


def test_yaml_aliases_within_budget_are_fine() -> None:
    text = "a: &a {x: [1, 2, 3]}\nb: *a\nc: *a\n"
    assert parse_document(text.encode(), file="x.yaml")["c"] == {"x": [1, 2, 3]}


def test_yaml_multiple_documents_refused() -> None:
    err = refused("a: 1\n---\nb: 2\n", file="x.yaml")
    assert err.line == 2 and "single document" in err.message


# ----------------------------------------------------------------- TOML


def test_toml_error_line_and_column_from_message() -> None:
    err = refused("a = 1\nb = \n", file="private/initech.toml")
    assert (err.line, err.column) == (2, 5)
    assert "line" not in err.message  # the position moved into the fields


def test_toml_duplicate_key_refused() -> None:
    err = refused("a = 1\na = 2\n", file="private/initech.toml")
    assert err.line == 2 and "duplicate key" in err.message


def test_toml_nan_refused_with_pointer() -> None:
    err = refused("[x]\na = nan\n", file="private/initech.toml")
    assert err.pointer == "/x/a"


# ----------------------------------------------------------------- all formats


def test_dates_become_iso8601_strings() -> None:
    toml = b"d = 1979-05-27\nt = 07:32:00\ndt = 1979-05-27T07:32:00Z\nl = 1979-05-27T07:32:00\n"
    assert parse_document(toml, file="x.toml") == {
        "d": "1979-05-27", "t": "07:32:00",
        "dt": "1979-05-27T07:32:00+00:00", "l": "1979-05-27T07:32:00",
    }
    yaml_text = b"d: 2024-01-02\ndt: 2024-01-02T10:00:00Z\nq: '2024-01-02'\n"
    assert parse_document(yaml_text, file="x.yaml") == {
        "d": "2024-01-02", "dt": "2024-01-02T10:00:00+00:00", "q": "2024-01-02",
    }


@pytest.mark.parametrize(
    ("file", "text", "kind"),
    [("x.json", "[1, 2]", "a list"), ("x.json", '"s"', "str"), ("x.yaml", "- 1\n", "a list"),
     ("x.yaml", "just text\n", "str"), ("x.yaml", "# only a comment\n", "nothing"),
     ("x.json", "null", "nothing")],
)
def test_top_level_must_be_an_object(file: str, text: str, kind: str) -> None:
    err = refused(text, file=file)
    assert "top level must be an object" in err.message and kind in err.message


@pytest.mark.parametrize("file", ["x.json", "x.yaml", "x.toml"])
def test_utf8_bom_accepted(file: str) -> None:
    body = {"x.json": '{"a": "é"}', "x.yaml": "a: é\n", "x.toml": 'a = "é"\n'}[file]
    assert parse_document(b"\xef\xbb\xbf" + body.encode(), file=file) == {"a": "é"}


def test_invalid_utf8_reports_byte_offset_and_line() -> None:
    err = refused(b'{\n  "a": "caf\xe9"\n}')
    assert "byte offset 13" in err.message
    assert (err.line, err.column) == (2, 12)


def test_invalid_utf8_offset_counts_the_bom() -> None:
    err = refused(b'\xef\xbb\xbf{"a": "\xff"}')
    assert "byte offset 10" in err.message


@pytest.mark.parametrize("data", [b"", b"   \n\t\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf \n"])
@pytest.mark.parametrize("file", ["x.json", "x.yaml", "x.toml"])
def test_empty_file_invalid(file: str, data: bytes) -> None:
    assert "empty" in refused(data, file=file).message


def test_unknown_suffix_refused() -> None:
    assert "unsupported file type" in refused("{}", file="x.ini").message


def _nested(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


def test_nesting_of_100_is_accepted_101_refused() -> None:
    assert parse_document(_nested(100).encode(), file="x.json")
    err = refused(_nested(101), file="x.json")
    assert "nesting deeper than 100" in err.message and err.line == 1


@pytest.mark.parametrize(
    ("file", "text"),
    [("x.json", "[" * 50_000), ("x.json", _nested(5_000)), ("x.yaml", "a: " + "[" * 5_000),
     ("x.yaml", "a: &a [[[[[[[[[[1]]]]]]]]]]\n" + "".join(
         f"{chr(98 + i)}: &{chr(98 + i)} [[[[[[[[[[*{chr(97 + i)}]]]]]]]]]]\n"
         for i in range(12)))],
    ids=["json-brackets", "json-objects", "yaml-flow", "yaml-alias-chain"],
)
def test_deep_nesting_refused_without_recursion_error(file: str, text: str) -> None:
    assert "nesting deeper than 100" in refused(text, file=file).message


def test_max_depth_is_a_setting() -> None:
    assert "nesting deeper than 3" in refused(_nested(4), file="x.json", max_depth=3).message


# ----------------------------------------------------------------- reading files


def test_over_max_file_bytes_refused_without_reading(tmp_path: Path, monkeypatch: Any) -> None:
    path = tmp_path / "big.json"
    with open(path, "wb") as fh:
        fh.truncate(50 * 1024 * 1024)  # sparse: cheap to make, costly if read
    reads: list[int] = []
    real_open = open

    class Spy:
        def __init__(self, fh: Any) -> None:
            self.fh = fh

        def __getattr__(self, name: str) -> Any:
            return getattr(self.fh, name)

        def read(self, n: int = -1) -> bytes:
            reads.append(n)
            return bytes(self.fh.read(n))

        def __enter__(self) -> Spy:
            return self

        def __exit__(self, *exc: object) -> None:
            self.fh.close()

    monkeypatch.setattr(reading, "open", lambda p, m: Spy(real_open(p, m)), raising=False)
    with pytest.raises(InvalidDocument) as info:
        read_document(path, file="private/big.json")
    assert "max_file_bytes" in info.value.message and "52428800 bytes" in info.value.message
    assert reads == []
    with pytest.raises(InvalidDocument, match="over the limit of 10"):
        path.write_text('{"a": "0123456789"}')
        read_document(path, file="x.json", max_file_bytes=10)


def test_file_changed_while_read_is_read_again(tmp_path: Path, monkeypatch: Any) -> None:
    path = tmp_path / "acme.json"
    path.write_text('{"v": 1}')
    real = reading._read_bounded
    calls: list[int] = []

    def racing_read(p: Path, file: str, limit: int) -> Any:
        result = real(p, file, limit)
        calls.append(1)
        if len(calls) == 1:  # a writer replaces the file right after our read
            tmp = tmp_path / "acme.json.tmp"
            tmp.write_text('{"v": 2, "more": true}')
            os.replace(tmp, path)
        return result

    monkeypatch.setattr(reading, "_read_bounded", racing_read)
    assert read_document(path, file="private/acme.json") == {"v": 2, "more": True}
    assert len(calls) == 2


def test_unreadable_path_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "d.json").mkdir()
    with pytest.raises(InvalidDocument, match=r"cannot read|not a regular file"):
        read_document(tmp_path / "d.json", file="d.json")


# ----------------------------------------------------------------- merge, checksum


def test_deep_merge_objects_merge_everything_else_replaces() -> None:
    base = {"pricing": {"currency": "USD", "discount": 0, "tiers": [1, 2]}, "flag": True,
            "obj": {"x": 1}, "scalar": 1}
    override = {"pricing": {"discount": 0.1, "tiers": [3]}, "flag": None,
                "obj": 5, "scalar": {"now": "object"}, "new": "k"}
    merged = deep_merge(base, override)
    assert merged == {
        "pricing": {"currency": "USD", "discount": 0.1, "tiers": [3]},
        "flag": None, "obj": 5, "scalar": {"now": "object"}, "new": "k",
    }
    merged["pricing"]["currency"] = "EUR"
    assert base["pricing"]["currency"] == "USD"  # inputs are never shared or changed
    assert override["pricing"] == {"discount": 0.1, "tiers": [3]}


def test_canonical_json_and_checksum_ignore_key_order() -> None:
    a = {"b": 1, "a": {"y": "é", "x": [1, 2]}}
    b = {"a": {"x": [1, 2], "y": "é"}, "b": 1}
    assert canonical_json(a) == '{"a":{"x":[1,2],"y":"é"},"b":1}'.encode()
    assert checksum(a) == checksum(b) and checksum(a).startswith("sha256:")
    assert checksum(a) != checksum({"b": 2, "a": a["a"]})


def test_same_data_in_three_formats_gives_one_checksum() -> None:
    j = parse_document(b'{"n": 1, "f": 0.5, "s": "x", "l": [true, null]}', file="a.json")
    y = parse_document(b"l: [true, null]\ns: x\nf: 0.5\nn: 1\n", file="a.yaml")
    t = parse_document(b'n = 1\nf = 0.5\ns = "x"\n', file="a.toml")
    assert checksum(j) == checksum(y)
    assert checksum({k: v for k, v in j.items() if k != "l"}) == checksum(t)


# ----------------------------------------------------------------- schema


SCHEMA = {
    "type": "object",
    "properties": {
        "pricing": {"type": "object", "properties": {
            "discount": {"type": "number", "minimum": 0, "maximum": 1}}},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}


def test_schema_error_has_pointer_and_file() -> None:
    with pytest.raises(InvalidDocument) as info:
        validate_schema({"pricing": {"discount": 5}}, SCHEMA, file="private/acme.json")
    err = info.value
    assert (err.file, err.pointer) == ("private/acme.json", "/pricing/discount")
    assert "maximum" in err.message
    with pytest.raises(InvalidDocument) as info:
        validate_schema({"tags": ["a", 3]}, SCHEMA, file="private/acme.json")
    assert info.value.pointer == "/tags/1"


def test_schema_draft_comes_from_dollar_schema() -> None:
    draft4 = {"$schema": "http://json-schema.org/draft-04/schema#",
              "properties": {"n": {"type": "number", "maximum": 1, "exclusiveMaximum": True}}}
    with pytest.raises(InvalidDocument):
        validate_schema({"n": 1}, draft4, file="x.json")  # draft 4: boolean exclusiveMaximum
    validate_schema({"n": 0.5}, draft4, file="x.json")


def test_invalid_schema_names_schema_json() -> None:
    with pytest.raises(InvalidDocument) as info:
        validate_schema({}, {"type": "objekt"}, file="private/acme.json")
    assert info.value.file == "schema.json" and "invalid JSON Schema" in info.value.message
