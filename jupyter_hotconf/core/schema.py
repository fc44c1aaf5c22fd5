"""JSON Schema validation of merged configs with ``jsonschema`` (docs/change-detection.md).

The draft comes from ``$schema`` (2020-12 when absent); formats are checked. The error
reported is ``best_match`` — the one a person should fix first — with its JSON pointer.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from .errors import InvalidDocument
from .formats import pointer_of
from .lazyformats import deferred_rfc3987

with deferred_rfc3987():  # the IRI grammar is built when a schema first checks an "iri"
    import jsonschema
    from jsonschema.exceptions import best_match

_MAX_MESSAGE = 300

JSONObject = dict[str, Any]


def pointer_parts(pointer: str) -> tuple[str, ...]:
    if not pointer:
        return ()
    return tuple(p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/"))


def _short(message: str) -> str:
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "…"


@functools.lru_cache(maxsize=16)
def _validator(schema_json: bytes) -> Any:
    """A checked validator per distinct schema (``$schema`` picks the draft, 2020-12 default)."""
    schema = json.loads(schema_json)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def schema_error(exc: jsonschema.SchemaError, schema_file: str) -> InvalidDocument:
    """An invalid schema itself, reported against ``schema_file``."""
    return InvalidDocument(
        f"invalid JSON Schema: {_short(exc.message)}",
        file=schema_file, pointer=pointer_of(list(exc.absolute_path)),
    )


def check_schema(schema: JSONObject, *, schema_file: str = "schema.json") -> None:
    """Raise ``InvalidDocument`` naming ``schema_file`` if ``schema`` is not a valid schema."""
    try:
        _validator(_key(schema))
    except jsonschema.SchemaError as exc:
        raise schema_error(exc, schema_file) from None


def _key(schema: JSONObject) -> bytes:
    return json.dumps(schema, sort_keys=True, separators=(",", ":")).encode("utf-8")


def validate_schema(
    config: JSONObject, schema: JSONObject, *, file: str, schema_file: str = "schema.json"
) -> None:
    """Raise ``InvalidDocument`` (file = ``file``, pointer of the failing value) if invalid.

    An invalid schema itself is reported against ``schema_file``.
    """
    check_schema(schema, schema_file=schema_file)
    validator = _validator(_key(schema))
    error = best_match(validator.iter_errors(config))
    if error is not None:
        raise InvalidDocument(
            _short(error.message), file=file, pointer=pointer_of(list(error.absolute_path))
        )
