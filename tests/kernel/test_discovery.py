"""Discovery order of docs/kernel.md: each source, and that an earlier one wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_hotconf.kernel.discovery import DiscoveryError, discover, server_source

SERVERS = [
    {"pid": 111, "url": "http://127.0.0.1:9999/", "token": "other"},
    {"pid": 4242, "url": "http://127.0.0.1:8888/a%40b/", "token": "jptoken"},
]


def no_servers() -> list[dict[str, object]]:
    return []


def test_url_forms() -> None:
    s = server_source("http://127.0.0.1:8888/a%40b/hotconf/", "t", "x")
    assert s.base_url == "http://127.0.0.1:8888/a%40b/hotconf/"
    assert s.ws_url == "ws://127.0.0.1:8888/a%40b/hotconf/ws"
    assert s.rest_url("tenants", "acme") == "http://127.0.0.1:8888/a%40b/hotconf/api/tenants/acme"
    assert s.headers() == {"Authorization": "token t"}
    # the server's root URL gets hotconf/ appended
    assert server_source("https://h:1/base", None, "x").ws_url == "wss://h:1/base/hotconf/ws"
    # a ws:// URL ending in /ws is used as is (the seed's standalone endpoint)
    seed = server_source("ws://127.0.0.1:7945/ws", None, "x")
    assert seed.ws_url == "ws://127.0.0.1:7945/ws"
    assert seed.base_url == "http://127.0.0.1:7945/hotconf/"
    assert seed.headers() == {}


def test_bad_url_is_a_clear_error() -> None:
    with pytest.raises(DiscoveryError, match="not an http"):
        server_source("ftp://x/", None, "$HOTCONF_URL")


def test_explicit_beats_everything(tmp_path: Path) -> None:
    env = {"HOTCONF_URL": "http://h1/hotconf/", "JUPYTER_HOTCONF_URL": "http://h2/hotconf/"}
    s = discover("http://h0/hotconf/", "tok", env=env, list_servers=no_servers, cwd=tmp_path)
    assert (s.base_url, s.token, s.origin) == ("http://h0/hotconf/", "tok", "url=")


def test_user_env_beats_server_export(tmp_path: Path) -> None:
    env = {
        "HOTCONF_URL": "http://h1/hotconf/", "HOTCONF_TOKEN": "u",
        "JUPYTER_HOTCONF_URL": "http://h2/hotconf/", "JUPYTER_HOTCONF_TOKEN": "s",
    }
    s = discover(env=env, list_servers=no_servers, cwd=tmp_path)
    assert (s.base_url, s.token) == ("http://h1/hotconf/", "u")


def test_server_export(tmp_path: Path) -> None:
    env = {"JUPYTER_HOTCONF_URL": "http://h2/x/hotconf/", "JUPYTER_HOTCONF_TOKEN": "s",
           "JPY_PARENT_PID": "4242"}
    s = discover(env=env, list_servers=lambda: SERVERS, cwd=tmp_path)
    assert (s.base_url, s.token, s.origin) == ("http://h2/x/hotconf/", "s",
                                               "$JUPYTER_HOTCONF_URL")


def test_parent_server_matched_on_jpy_parent_pid(tmp_path: Path) -> None:
    s = discover(env={"JPY_PARENT_PID": "4242"}, list_servers=lambda: SERVERS, cwd=tmp_path)
    assert s.base_url == "http://127.0.0.1:8888/a%40b/hotconf/"
    assert s.token == "jptoken"


def test_unmatched_parent_pid_falls_through_to_hub(tmp_path: Path) -> None:
    env = {"JPY_PARENT_PID": "5", "JUPYTERHUB_API_TOKEN": "hub",
           "JUPYTERHUB_SERVICE_PREFIX": "/user/ann/"}
    s = discover(env=env, list_servers=lambda: SERVERS, cwd=tmp_path)
    assert (s.base_url, s.token) == ("http://127.0.0.1:8888/user/ann/hotconf/", "hub")
    env["JUPYTERHUB_SERVICE_URL"] = "http://10.0.0.5:8000/user/ann/"
    assert discover(env=env, list_servers=no_servers, cwd=tmp_path).base_url == (
        "http://10.0.0.5:8000/user/ann/hotconf/")


def test_local_config_dir_env(tmp_path: Path) -> None:
    s = discover(env={"HOTCONF_CONFIG_DIR": str(tmp_path)}, list_servers=no_servers, cwd=tmp_path)
    assert (s.kind, s.config_dir) == ("local", tmp_path)


def test_local_nearest_configs_above_cwd(tmp_path: Path) -> None:
    (tmp_path / "configs").mkdir()
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    s = discover(env={}, list_servers=no_servers, cwd=deep)
    assert (s.kind, s.config_dir) == ("local", tmp_path / "configs")
    assert "local" in s.describe()


def test_nothing_found_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(DiscoveryError, match="HOTCONF_CONFIG_DIR"):
        discover(env={}, list_servers=no_servers, cwd=tmp_path)


def test_real_list_running_servers_is_lazy_and_harmless(tmp_path: Path) -> None:
    # no server with this pid runs: falls through to local mode
    s = discover(env={"JPY_PARENT_PID": "999999999", "HOTCONF_CONFIG_DIR": str(tmp_path)},
                 cwd=tmp_path)
    assert s.kind == "local"
