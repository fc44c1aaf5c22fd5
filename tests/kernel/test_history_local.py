"""History in local mode, on real files and the real SQLite database a server on the same
config dir would use: the kernel records its tenant's revisions, ``history``/``at``/``diff``
read them, ``rollback`` writes the old content back in the file's own format."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_hotconf.core.errors import UnknownRevision
from jupyter_hotconf.core.history import HistoryStore
from jupyter_hotconf.kernel.history import HistoryError
from jupyter_hotconf.kernel.journal import local_history_path
from jupyter_hotconf.kernel.provider import ConfigProvider
from jupyter_hotconf.pytest_plugin import Recorder, wait_until, write_json

YAML = """\
# globex pricing — keep this comment
pricing:
  discount: 0.2   # agreed in Q3
name: Globex
"""


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Jupyter's data dir of this test, where the default history database goes."""
    path = tmp_path / "jupyter-data"
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(path))
    yield path


def test_local_history_grows_and_at_diff_read_it(hotconf_dir: Path, data_dir: Path) -> None:
    acme = hotconf_dir / "private" / "acme.json"
    cfg = ConfigProvider("acme", config_dir=hotconf_dir, debounce_ms=20)
    try:
        db = local_history_path(hotconf_dir)
        assert db.is_file() and db.is_relative_to(data_dir)  # the server's default file
        assert cfg.revision == 1
        first = cfg.history()
        assert [(e.revision, e.change_type, e.source) for e in first] == [
            (1, "created", "startup")]
        write_json(acme, {"pricing": {"discount": 0.5}, "name": "Acme"})
        wait_until(lambda: cfg.revision == 2, what="r2")
        acme.write_text('{"pricing": {"discount": 7}}')  # invalid: schema maximum 1
        wait_until(lambda: not cfg.valid, what="invalid")
        write_json(acme, {"pricing": {"discount": 0.6}, "features": {"beta": True}})
        wait_until(lambda: cfg.revision == 3, what="r3")
        entries = cfg.history()
        assert [(e.revision, e.change_type, e.source) for e in entries] == [
            (3, "modified", "watcher"), (None, "invalid", "watcher"),
            (2, "modified", "watcher"), (1, "created", "startup")]
        assert entries[1].error is not None and entries[1].error["pointer"] == "/pricing/discount"
        assert entries[0].file == "private/acme.json"
        assert [e.revision for e in cfg.history(limit=2)] == [3, None]
        assert [e.revision for e in cfg.history(before=3)] == [None, 2, 1]
        # the same database a server (or another tool) reads
        with HistoryStore(db) as other:
            assert other.epoch == entries.epoch and other.last("acme").revision == 3
        old = cfg.at(2)
        assert old["pricing"]["discount"] == 0.5 and old["pricing"]["currency"] == "USD"
        assert old.document == {"pricing": {"discount": 0.5}, "name": "Acme"}
        with pytest.raises(TypeError):
            old["pricing"]["discount"] = 1  # type: ignore[index]
        with pytest.raises(LookupError, match="no revision 9"):
            cfg.at(9)
        with pytest.raises(ValueError, match="revision number"):
            cfg.at(0)
        d = cfg.diff(1)  # to the current revision
        assert (d.from_revision, d.to_revision) == (1, 3)
        assert d.changed_paths == ["/features/beta", "/name", "/pricing/discount"]
        assert ("/pricing/discount", "0.1", "0.6") in d.rows
        assert ("/name", '"Acme"', "(absent)") in d.rows
        assert {"op": "replace", "path": "/features/beta", "value": True} in d.patch
        assert cfg.diff(2, 3).changed_paths == ["/features/beta", "/name", "/pricing/discount"]
        with pytest.raises(UnknownRevision):
            cfg.diff(1, 8)
    finally:
        cfg.close()
    # a new kernel on the same dir continues the numbering: same content, same revision
    again = ConfigProvider("acme", config_dir=hotconf_dir, debounce_ms=20)
    try:
        assert again.revision == 3 and len(again.history()) == 4
    finally:
        again.close()


def test_local_rollback_restores_the_file_in_its_format(hotconf_dir: Path, data_dir: Path
                                                        ) -> None:
    globex = hotconf_dir / "private" / "globex.json"
    globex.unlink()
    yaml_file = hotconf_dir / "private" / "globex.yaml"
    yaml_file.write_text(YAML)
    cfg = ConfigProvider("globex", config_dir=hotconf_dir, debounce_ms=20)
    changes = Recorder()
    cfg.on_change(changes)
    try:
        assert cfg.revision == 1 and cfg["pricing"]["discount"] == 0.2
        yaml_file.write_text(YAML.replace("0.2", "0.9"))
        changes.wait_for(lambda items: len(items) == 1, what="edit")
        assert changes.items[0].source == "watcher" and changes.items[0].actor is None
        assert cfg.revision == 2
        result = cfg.rollback(1)
        assert (result.revision, result.rolled_back_to, result.changed) == (3, 1, True)
        # the file is YAML again, comments kept, only the value rewritten
        assert yaml_file.read_text() == YAML
        assert not globex.exists()
        changes.wait_for(lambda items: len(items) == 2, what="the rollback as a change")
        back = changes.items[1]
        assert back.source == "rollback" and back.revision == 3
        assert back.changed_paths == ["/pricing/discount"] and cfg["pricing"]["discount"] == 0.2
        entries = cfg.history()
        assert [(e.revision, e.source) for e in entries] == [
            (3, "rollback"), (2, "watcher"), (1, "startup")]
        # rolling back to the content in force: nothing written, no revision added
        again = cfg.rollback(3)
        assert (again.revision, again.changed) == (3, False)
        assert len(cfg.history()) == 3 and yaml_file.read_text() == YAML
        with pytest.raises(LookupError, match="no revision 7"):
            cfg.rollback(7)
    finally:
        cfg.close()


def test_rollback_of_a_deletion_and_without_history_are_clear_errors(
    hotconf_dir: Path, data_dir: Path
) -> None:
    acme = hotconf_dir / "private" / "acme.json"
    cfg = ConfigProvider("acme", config_dir=hotconf_dir, debounce_ms=20)
    try:
        acme.unlink()
        wait_until(lambda: cfg.revision == 2, what="deleted")
        assert cfg.history()[0].change_type == "deleted"
        assert cfg.at(2).deleted and dict(cfg.at(2)) == {}
        with pytest.raises(HistoryError, match="is a deletion"):
            cfg.rollback(2)
        cfg.rollback(1)  # the file comes back, as JSON
        wait_until(lambda: cfg.revision == 3 and cfg["name"] == "Acme", what="recreated")
        assert acme.is_file()
    finally:
        cfg.close()
    fixed = ConfigProvider("acme", config={"a": 1})
    with pytest.raises(HistoryError, match="no history"):
        fixed.history()
    one = ConfigProvider("acme", config_path=acme, debounce_ms=20)
    try:
        with pytest.raises(HistoryError, match="config_path"):
            one.diff(1)
    finally:
        one.close()
