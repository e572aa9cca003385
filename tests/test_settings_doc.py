"""docs/settings.md: generated from the settings models, and naming every ASC_ACCESS_ variable."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from asc_access.cli.settings_doc import render
from asc_access.config import Settings
from asc_access.errors import UsageError
from asc_access.queue.config import WorkerConfig

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "settings.md"
#: A full variable name; ``ASC_ACCESS_OIDC_*`` in prose ends in ``_`` and is a family, not a name.
NAME = re.compile(r"ASC_ACCESS_[A-Z0-9_]*[A-Z0-9]\b")


def _names_in_src() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "src" / "asc_access").rglob("*.py"):
        found.update(NAME.findall(path.read_text(encoding="utf-8")))
    return {n for n in found if not n.startswith("ASC_ACCESS_TEST_")}


def test_docs_settings_md_is_the_generated_text() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/settings.md is stale: run `python -m asc_access.cli.settings_doc > docs/settings.md`"
    )


def test_every_variable_in_src_is_documented() -> None:
    documented = set(NAME.findall(DOC.read_text(encoding="utf-8")))
    names = _names_in_src()
    assert len(names) > 20
    assert sorted(names - documented) == []


def test_the_grep_would_catch_an_undocumented_name() -> None:
    assert "ASC_ACCESS_KEY_WINDOW" in _names_in_src() | set(NAME.findall(render()))
    assert NAME.findall("set ASC_ACCESS_NEW_THING, or ASC_ACCESS_OIDC_*") == [
        "ASC_ACCESS_NEW_THING"
    ]


def test_settings_defaults_and_parsing() -> None:
    s = Settings.from_env(
        {
            "ASC_ACCESS_HOME": "/data/asc",
            "ASC_ACCESS_API_URL": "http://127.0.0.1:8765/",
            "ASC_ACCESS_ALLOWED_API_URLS": " http://a, ,http://b ",
            "ASC_ACCESS_BROKER_URL": "",
            "ASC_ACCESS_MASTER_KEY": "s3cret-master",
        }
    )
    assert s.database_url == "sqlite:////data/asc/asc-access.db"
    assert s.api_url == "http://127.0.0.1:8765"
    assert s.allowed_api_urls == ("http://a", "http://b")
    assert s.broker_url is None
    assert s.master_key == "s3cret-master"
    assert "s3cret-master" not in repr(s)
    assert Settings.from_env({}).api_url == "https://api.appstoreconnect.apple.com"


def test_settings_read_os_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ASC_ACCESS_HOME", str(tmp_path))
    assert Settings().home == Settings.from_env().home == tmp_path


BROKER = {"ASC_ACCESS_BROKER_URL": "redis://:pw@127.0.0.1:6379/0"}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "no broker configured: set ASC_ACCESS_BROKER_URL to a Redis URL"),
        (
            {"ASC_ACCESS_BROKER_URL": "http://u:pw@x"},
            "ASC_ACCESS_BROKER_URL must be a Redis URL (redis://...), got http://***@x",
        ),
        (
            {**BROKER, "ASC_ACCESS_LOCK_TTL": "soon"},
            "ASC_ACCESS_LOCK_TTL must be a number of seconds, got 'soon'",
        ),
        (
            {**BROKER, "ASC_ACCESS_LOCK_TTL": "0.5"},
            "ASC_ACCESS_LOCK_TTL must be at least 1.0, got 0.5",
        ),
        (
            {**BROKER, "ASC_ACCESS_KEY_RESERVE": "1.5"},
            "ASC_ACCESS_KEY_RESERVE must be a whole number, got '1.5'",
        ),
        (
            {**BROKER, "ASC_ACCESS_KEY_MAX_IN_FLIGHT": "0"},
            "ASC_ACCESS_KEY_MAX_IN_FLIGHT must be at least 1, got 0",
        ),
    ],
)
def test_worker_config_refusals_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError) as caught:
        WorkerConfig.from_env(env)
    assert message in str(caught.value)
    assert "pw" not in str(caught.value)


def test_worker_config_defaults() -> None:
    config = WorkerConfig.from_env({**BROKER, "ASC_ACCESS_KEY_PREFIX": "", "ASC_ACCESS_QUEUE": ""})
    assert config.result_backend == BROKER["ASC_ACCESS_BROKER_URL"]
    assert config.key_prefix == ""
    assert config.queue == "asc-access.sync"
    assert (config.lock_ttl, config.key_max_in_flight, config.key_reserve) == (60.0, 4, 50)
    assert "pw" not in repr(config)
    assert config == WorkerConfig.from_env({**BROKER, "ASC_ACCESS_KEY_PREFIX": ""})
    assert hash(config) == hash(WorkerConfig.from_env({**BROKER, "ASC_ACCESS_KEY_PREFIX": ""}))


@pytest.mark.parametrize(
    "env",
    [{}, {"ASC_ACCESS_API_URL": ""}, {"ASC_ACCESS_API_URL": "http://127.0.0.1:8765//"}],
)
def test_the_light_api_url_reader_agrees_with_the_model(env: dict[str, str]) -> None:
    from asc_access.config import api_url_from_env

    assert api_url_from_env(env) == Settings.from_env(env).api_url


def test_importing_config_loads_no_pydantic() -> None:
    code = (
        "import sys, asc_access.config, asc_access.vault\n"
        "assert 'pydantic' not in sys.modules\n"
        "asc_access.config.Settings\n"
        "assert 'pydantic' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
