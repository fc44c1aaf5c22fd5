"""Validated, atomic, format-preserving write of a tenant's own document.

The new document is rendered in the file's format (``roundtrip``), then the rendered bytes
are parsed, merged with ``defaults.*`` and checked against ``schema.json`` exactly as the
watcher will load them, so a refusal carries the same file, line and pointer as a bad edit
would. Only then is the file written: temp file in the same directory, ``fsync``,
``os.replace``, ``fsync`` of the directory — a reader sees the old file or the new one,
never a mix (docs/history.md). Serialising concurrent writers is the caller's job.

>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> write_document(root, "acme", {"a": 1}).file
'private/acme.json'
>>> (root / "private" / "acme.json").read_text()
'{\\n  "a": 1\\n}\\n'
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .documents import (
    DEFAULT_MAX_FILE_BYTES,
    JSONObject,
    canonical_json,
    checksum,
    deep_merge,
    parse_document,
    read_document,
)
from .errors import InvalidDocument, WriteFailed
from .loading import LOAD_ATTEMPTS, Shared, Source, blame, load_shared
from .roundtrip import render
from .schema import validate_schema
from .store import diff
from .tenants import ConfigLayout, validate_tenant_id

__all__ = ["PendingWrite", "prepare_write", "read_own_document", "remove_document",
           "write_document"]

NEW_FILE_SUFFIX = ".json"
NEW_FILE_MODE = 0o644


@dataclass(frozen=True)
class PendingWrite:
    """A validated document rendered for its file, not yet written.

    ``checksum`` is that of the merged ``config`` the watcher will load from it, so a caller
    can wait until the watcher has applied the write (read-your-writes).
    """

    tenant_id: str
    path: Path  # the file written (a symlink's target)
    file: str  # relative to the config dir, for messages
    data: bytes
    config: JSONObject
    checksum: str
    created: bool  # no file existed

    def commit(self) -> None:
        """Write ``data`` atomically; raises ``WriteFailed`` and leaves the file as it was."""
        mode = NEW_FILE_MODE
        with contextlib.suppress(FileNotFoundError):
            mode = os.stat(self.path).st_mode & 0o7777
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(self.path, self.data, mode)
        except OSError as exc:
            raise WriteFailed(self.file, exc.strerror or str(exc)) from None


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX; Windows cannot open a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    # A hidden ``.tmp`` name: the watcher ignores it as an editor's temp file.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _target(layout: ConfigLayout, tenant_id: str) -> tuple[Path, bool]:
    """The tenant's file (an existing one, or a new ``private/<t>.json``) and whether new."""
    files = layout.tenant_files(tenant_id)
    if len(files) > 1:
        names = " and ".join(layout.relname(p) for p in files)
        raise InvalidDocument(
            f"two files for tenant {tenant_id!r}: {names}; keep only one",
            file=layout.relname(files[0]),
        )
    if not files:
        return layout.private_dir / f"{tenant_id}{NEW_FILE_SUFFIX}", True
    if not layout.is_contained(files[0]):
        raise InvalidDocument(
            f"refused: the file is a link to {os.path.realpath(files[0])}, outside the "
            "config dir", file=layout.relname(files[0]),
        )
    return files[0], False


def _shared(layout: ConfigLayout, max_file_bytes: int) -> Shared:
    for _ in range(LOAD_ATTEMPTS):  # defaults or schema replaced while read: read again
        with contextlib.suppress(FileNotFoundError):
            return load_shared(layout, max_file_bytes=max_file_bytes)
    return load_shared(layout, max_file_bytes=max_file_bytes)


def _validate(
    layout: ConfigLayout, file: str, data: bytes, max_file_bytes: int
) -> JSONObject:
    """The merged config the watcher would load from ``data``, or its ``InvalidDocument``."""
    if len(data) > max_file_bytes:
        raise InvalidDocument(
            f"the file would be {len(data)} bytes, over the limit of {max_file_bytes} "
            "(max_file_bytes); refused", file=file,
        )
    own = parse_document(data, file=file)
    shared = _shared(layout, max_file_bytes)
    for error in (shared.defaults_error, shared.schema_error):
        if error is not None:
            raise error
    merged = own if shared.defaults is None else deep_merge(shared.defaults.config, own)
    if shared.schema is not None:
        try:
            validate_schema(merged, shared.schema, file=file)
        except InvalidDocument as err:
            raise blame(err, Source(file, own, data), shared.defaults) from None
    return merged


def _render_checked(path: Path, file: str, created: bool, document: JSONObject) -> bytes:
    """Render ``document`` keeping the file's untouched parts; if the format turned some value
    into another (a YAML/TOML type quirk), render it afresh; refuse if that differs too."""
    suffix = path.suffix.lower()
    old_text = None if created else path.read_bytes().decode("utf-8-sig", "replace")
    for base in (old_text, None) if old_text is not None else (None,):
        text = render(suffix, base, document, file=file)
        got = parse_document(text.encode("utf-8"), file=file)  # refuses NaN, depth …
        if canonical_json(got) == canonical_json(document):
            return text.encode("utf-8")
    where = diff(document, got)[1][:1] or [""]
    raise InvalidDocument(
        f"the value cannot be written as {suffix[1:].upper()} without changing it",
        file=file, pointer=where[0] or None,
    )


def prepare_write(
    config_dir: str | Path,
    tenant_id: str,
    document: JSONObject,
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> PendingWrite:
    """Render and validate ``document`` as the tenant's own document; write nothing.

    Raises ``InvalidDocument`` (file, line, column, pointer) when the merged config it would
    make is invalid by the rules a file is held to; ``InvalidTenant`` for a bad id.
    """
    tenant_id = validate_tenant_id(tenant_id)
    layout = ConfigLayout(config_dir)
    path, created = _target(layout, tenant_id)
    file = layout.relname(path)
    if not isinstance(document, dict):
        raise InvalidDocument(
            f"the document must be an object (key: value pairs), got {type(document).__name__}",
            file=file,
        )
    data = _render_checked(path, file, created, document)
    merged = _validate(layout, file, data, max_file_bytes)
    # A symlinked file (inside the config dir) is written at its target, so it stays a link.
    target = path if created else Path(os.path.realpath(path))
    return PendingWrite(tenant_id, target, file, data, merged, checksum(merged), created)


def write_document(
    config_dir: str | Path,
    tenant_id: str,
    document: JSONObject,
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> PendingWrite:
    """Validate, then atomically write, the tenant's own document in its file's format (a new
    tenant gets ``private/<t>.json``). An invalid document raises and touches nothing."""
    pending = prepare_write(config_dir, tenant_id, document, max_file_bytes=max_file_bytes)
    pending.commit()
    return pending


def read_own_document(
    config_dir: str | Path, tenant_id: str, *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> JSONObject | None:
    """The tenant's own document (its file parsed, without defaults); None if it has none.
    Raises ``InvalidDocument`` when the file is invalid or the tenant has two files."""
    layout = ConfigLayout(config_dir)
    path, created = _target(layout, validate_tenant_id(tenant_id))
    if created:
        return None
    try:
        return read_document(path, file=layout.relname(path), max_file_bytes=max_file_bytes)
    except FileNotFoundError:
        return None


def remove_document(config_dir: str | Path, tenant_id: str) -> bool:
    """Delete the tenant's file(s); False if it had none. The watcher reports ``deleted``."""
    layout = ConfigLayout(config_dir)
    removed = False
    for path in layout.tenant_files(validate_tenant_id(tenant_id)):
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise WriteFailed(layout.relname(path), exc.strerror or str(exc)) from None
        _fsync_dir(path.parent)
        removed = True
    return removed
