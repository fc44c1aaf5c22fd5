"""The real ``git`` rewriting a config dir: checkout, stash, stash pop, reset --hard.

git replaces a tracked file by deleting it and writing a new one (not an atomic rename),
so at ``debounce_ms=0`` a reload can find the file missing. The watcher re-checks a missing
tenant file one quiet window later before it reports ``deleted`` (docs/change-detection.md),
so each tenant gets exactly the one change git really made, never a transient ``deleted``.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from test_watcher_support import KINDS, Harness, watching

from jupyter_hotconf.core.store import Change
from jupyter_hotconf.pytest_plugin import write_json

#: Tenants git tracks; ``zeta`` is untracked (excluded), so git never touches it and a
#: change to it proves that every event before it is settled.
SENTINEL = "zeta"
#: Modified together with acme by a branch or a commit: each is one more chance for a
#: reload to fall between git's delete and its write.
ALSO_MODIFIED = ("cyberdyne", "soylent", "tyrell", "umbrella", "wonka")
COMMITTED = ("acme", "globex", "initech", *ALSO_MODIFIED)
TENANTS = (*COMMITTED, "hooli")

Expected = dict[str, tuple[str, "str | None"]]  # tenant -> (change type, rev after it)


def git(repo: Path, *args: str) -> None:
    """Run the real git in ``repo`` with its own identity; no global or system config."""
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(
        [
            "git", "-c", "user.name=Hotconf Test", "-c", "user.email=hotconf@example.invalid",
            "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args,
        ],
        cwd=repo, env=env, check=True, capture_output=True,
    )


def tenant_file(config_dir: Path, tenant: str) -> Path:
    return config_dir / "private" / f"{tenant}.json"


def write_tenant(config_dir: Path, tenant: str, rev: str) -> None:
    write_json(tenant_file(config_dir, tenant), {"name": tenant.title(), "rev": rev})


@pytest.fixture
def repo(hotconf_dir: Path) -> Path:
    """A git repo holding the config dir (``.git`` outside it, as in a real checkout) with
    the ``COMMITTED`` tenants at rev ``base`` on ``main``."""
    root = hotconf_dir.parent
    for tenant in COMMITTED:
        write_tenant(hotconf_dir, tenant, "base")
    write_tenant(hotconf_dir, SENTINEL, "untracked")
    git(root, "init", "-q")
    (root / ".git" / "info" / "exclude").write_text(f"{SENTINEL}.json\n.*.tmp\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root


def change_set(config_dir: Path, rev: str) -> Expected:
    """Edit acme and ``ALSO_MODIFIED`` to ``rev``, delete globex, add hooli; returns what
    the watcher should report for it."""
    for tenant in ("acme", *ALSO_MODIFIED):
        write_tenant(config_dir, tenant, rev)
    tenant_file(config_dir, "globex").unlink()
    write_tenant(config_dir, "hooli", rev)
    return forward(rev)


def forward(rev: str) -> Expected:
    """What the watcher reports when the tree moves from base to ``change_set(rev)``."""
    expected: Expected = {tenant: ("modified", rev) for tenant in ("acme", *ALSO_MODIFIED)}
    return expected | {"globex": ("deleted", None), "hooli": ("created", rev)}


def back() -> Expected:
    """What the watcher reports when the tree moves from ``change_set`` back to base."""
    expected: Expected = {tenant: ("modified", "base") for tenant in ("acme", *ALSO_MODIFIED)}
    return expected | {"globex": ("created", "base"), "hooli": ("deleted", None)}


def _rev(change: Change) -> str | None:
    return None if change.new is None else change.new.get("rev")


def settle(h: Harness, mark: int, expected: Expected) -> int:
    """Wait until each tenant of ``expected`` reached its rev, prove with the sentinel that
    nothing is left in flight, then assert every tracked tenant got exactly the expected
    change since ``mark`` (and the others none). Returns the next mark."""
    for tenant, (_, rev) in expected.items():
        h.rec.wait_for(
            lambda items, t=tenant, r=rev: any(
                c.tenant_id == t and _rev(c) == r for c in items[mark:]
            ),
            what=f"{tenant} at rev {rev}",
        )
    h.sentinel(SENTINEL)
    items = list(h.rec.items)
    got = {
        tenant: [(c.change_type.value, _rev(c)) for c in items[mark:] if c.tenant_id == tenant]
        for tenant in TENANTS
    }
    want = {tenant: [expected[tenant]] if tenant in expected else [] for tenant in TENANTS}
    assert got == want
    return len(items)


PARAMS = pytest.mark.parametrize(
    ("kind", "debounce_ms"), [(kind, ms) for kind in KINDS for ms in (0, 100)]
)


def rounds(debounce_ms: int) -> int:
    """The delete-then-write race is narrow: repeat it at window 0 so the old watcher
    (which reported the missing file at once) fails reliably."""
    return 10 if debounce_ms == 0 else 2


@PARAMS
def test_checkout_of_a_branch_gives_each_tenant_its_one_change(
    repo: Path, hotconf_dir: Path, kind: str, debounce_ms: int
) -> None:
    """Branch ``feature`` modifies six tenants, deletes globex and adds hooli; initech is
    the same on both branches."""
    git(repo, "checkout", "-q", "-b", "feature")
    change_set(hotconf_dir, "feature")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "feature")
    git(repo, "checkout", "-q", "main")
    with watching(hotconf_dir, kind, debounce_ms=debounce_ms) as h:
        mark = 0
        for _ in range(rounds(debounce_ms)):
            git(repo, "checkout", "-q", "feature")
            mark = settle(h, mark, forward("feature"))
            git(repo, "checkout", "-q", "main")
            mark = settle(h, mark, back())


@PARAMS
def test_stash_and_pop_give_each_tenant_its_one_change(
    repo: Path, hotconf_dir: Path, kind: str, debounce_ms: int
) -> None:
    """Work in progress (acme edited, globex deleted) stashed, popped, then discarded."""
    with watching(hotconf_dir, kind, debounce_ms=debounce_ms) as h:
        mark = 0
        for i in range(rounds(debounce_ms)):
            write_tenant(hotconf_dir, "acme", f"wip{i}")
            tenant_file(hotconf_dir, "globex").unlink()
            wip: Expected = {"acme": ("modified", f"wip{i}"), "globex": ("deleted", None)}
            clean: Expected = {"acme": ("modified", "base"), "globex": ("created", "base")}
            mark = settle(h, mark, wip)
            git(repo, "stash", "-q")
            mark = settle(h, mark, clean)
            git(repo, "stash", "pop", "-q")
            mark = settle(h, mark, wip)
            git(repo, "checkout", "-q", "--", ".")
            mark = settle(h, mark, clean)


@PARAMS
def test_reset_hard_gives_each_tenant_its_one_change(
    repo: Path, hotconf_dir: Path, kind: str, debounce_ms: int
) -> None:
    """A commit (six tenants edited, globex deleted, hooli added) undone by
    ``reset --hard HEAD~1`` and redone by ``reset --hard ORIG_HEAD``; then an uncommitted
    edit thrown away by ``reset --hard``."""
    with watching(hotconf_dir, kind, debounce_ms=debounce_ms) as h:
        mark = settle(h, 0, change_set(hotconf_dir, "next"))
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "next")
        for _ in range(rounds(debounce_ms)):
            git(repo, "reset", "-q", "--hard", "HEAD~1")
            mark = settle(h, mark, back())
            git(repo, "reset", "-q", "--hard", "ORIG_HEAD")
            mark = settle(h, mark, forward("next"))
        write_tenant(hotconf_dir, "initech", "wip")
        mark = settle(h, mark, {"initech": ("modified", "wip")})
        git(repo, "reset", "-q", "--hard")
        settle(h, mark, {"initech": ("modified", "base")})
        assert json.loads(tenant_file(hotconf_dir, "initech").read_text())["rev"] == "base"
