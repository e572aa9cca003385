"""``doctor --json`` end to end over real HTTP against the sandbox: every catalogue cause.

Each test stages one situation (through flags, files or the sandbox's control
API) and checks the verdict: code, cause, certainty, exit status, and the
contract's fields.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from _support import keys
from _support.sandbox import RunningSandbox

from .conftest import Run, closed_port

CONTRACT = {
    "ok",
    "code",
    "cause",
    "certainty",
    "findings",
    "checks",
    "key_type",
    "capabilities",
    "clock_skew_seconds",
    "rate_limit",
}
ALL_TRUE = {"read_apps": True, "read_users": True, "read_invitations": True, "manage_users": True}


def doctor(cli: Any, sandbox: RunningSandbox, *args: str) -> Run:
    return cli("doctor", "--json", "--api-url", sandbox.base_url, *args)  # type: ignore[no-any-return]


def assert_verdict(run: Run, code: str, cause: str, certainty: str) -> dict[str, Any]:
    assert run.exception is None, run.exception
    doc = run.doc
    assert set(doc) >= CONTRACT, set(doc) ^ CONTRACT
    assert (doc["code"], doc["cause"], doc["certainty"]) == (code, cause, certainty), doc
    assert run.exit_code == int(code.split("-")[1])
    assert doc["ok"] is False
    first = doc["findings"][0]
    assert (first["code"], first["cause"], first["certainty"]) == (code, cause, certainty)
    assert first["title"]
    assert first["evidence"]
    assert len(first["resolution"]) >= 2
    for check in doc["checks"]:
        assert set(check) == {"id", "status", "detail"}
        assert check["status"] in {"pass", "fail", "warn", "skip"}
    return doc


def check(doc: dict[str, Any], check_id: str) -> dict[str, str]:
    return next(c for c in doc["checks"] if c["id"] == check_id)


# --------------------------------------------------------------------------- passing keys
@pytest.mark.parametrize("name", ["admin", "individual-admin"])
def test_admin_keys_pass_with_every_capability(
    cli: Any, key_args: Any, shared_sandbox: RunningSandbox, name: str
) -> None:
    key = shared_sandbox.keys[name]
    run = doctor(cli, shared_sandbox, *key_args(key))
    assert run.exit_code == 0, run.stdout
    doc = run.doc
    assert set(doc) >= CONTRACT
    assert doc["ok"] is True
    assert (doc["code"], doc["cause"], doc["certainty"], doc["findings"]) == (None, None, None, [])
    assert doc["key_type"] == key.key_type
    assert doc["capabilities"] == ALL_TRUE
    assert abs(doc["clock_skew_seconds"]) < 5
    assert doc["rate_limit"]["limit"] == 3600
    assert 0 < doc["rate_limit"]["remaining"] < 3600
    assert not [c for c in doc["checks"] if c["status"] == "fail"]


def test_human_output_reads_like_a_troubleshooting_page(
    cli: Any, key_args: Any, shared_sandbox: RunningSandbox
) -> None:
    key = shared_sandbox.keys["developer"]
    run = cli("doctor", "--api-url", shared_sandbox.base_url, *key_args(key))
    assert run.exit_code == 102
    text = run.stdout
    for part in (
        "APP-102",
        "key_role_insufficient",
        "What happened",
        "Evidence",
        "How to fix it",
        "1. Generate a replacement key: Users and Access → Integrations → App Store Connect API",
        "How sure we are",
        "Checks",
        "read_users",
    ):
        assert part in text, part


# --------------------------------------------------------------------------- APP-101 offline
def _offline(cli: Any, sandbox: RunningSandbox, args: list[str], cause: str) -> dict[str, Any]:
    before = sandbox.stats()["requests"]
    doc = assert_verdict(doctor(cli, sandbox, *args), "APP-101", cause, "certain")
    assert sandbox.stats()["requests"] == before  # proven locally: nothing sent to Apple
    assert check(doc, "token_accepted")["status"] == "skip"
    return doc


def test_key_id_malformed(cli: Any, key_args: Any, shared_sandbox: RunningSandbox) -> None:
    key = shared_sandbox.keys["admin"]
    args = key_args(key)
    args[1] = key.key_id.lower()
    doc = _offline(cli, shared_sandbox, args, "key_id_malformed")
    assert "flag --key-id" in doc["findings"][0]["evidence"]


def test_issuer_id_malformed(cli: Any, key_args: Any, shared_sandbox: RunningSandbox) -> None:
    key = shared_sandbox.keys["admin"]
    args = [*key_args(key, issuer=False), "--issuer-id", "not-an-issuer"]
    _offline(cli, shared_sandbox, args, "issuer_id_malformed")


def test_ids_swapped(cli: Any, shared_sandbox: RunningSandbox) -> None:
    key = shared_sandbox.keys["admin"]
    assert key.issuer_id
    args = ["--key-id", key.issuer_id, "--issuer-id", key.key_id]
    args += ["--private-key-file", str(key.private_key_file)]
    _offline(cli, shared_sandbox, args, "ids_swapped")


@pytest.mark.parametrize(
    ("content", "cause"),
    [
        ("", "private_key_unreadable"),
        (b"\x7fELF\x02\x01\x01\x00garbage\xff\xfe", "private_key_unreadable"),
        (keys.rsa_key_pem, "private_key_wrong_type"),
        (keys.public_key_pem, "private_key_wrong_type"),
        (keys.encrypted_key_pem, "private_key_encrypted"),
    ],
)
def test_bad_private_keys(
    cli: Any, shared_sandbox: RunningSandbox, tmp_path: Path, content: Any, cause: str
) -> None:
    key = shared_sandbox.keys["admin"]
    data = content() if callable(content) else content
    path = keys.write_key_file(tmp_path, data, name=f"AuthKey_{key.key_id}.p8")
    args = ["--key-id", key.key_id, "--issuer-id", str(key.issuer_id)]
    doc = _offline(cli, shared_sandbox, [*args, "--private-key-file", str(path)], cause)
    assert str(path) in doc["findings"][0]["evidence"]


def test_private_key_directory(cli: Any, shared_sandbox: RunningSandbox, tmp_path: Path) -> None:
    key = shared_sandbox.keys["admin"]
    args = ["--key-id", key.key_id, "--issuer-id", str(key.issuer_id)]
    _offline(cli, shared_sandbox, [*args, "--private-key-file", str(tmp_path)],
             "private_key_unreadable")  # fmt: skip


def test_key_id_filename_mismatch(cli: Any, shared_sandbox: RunningSandbox) -> None:
    """Another key's file: only a clue offline, so Apple is asked; its 401 makes it likely."""
    admin, developer = shared_sandbox.keys["admin"], shared_sandbox.keys["developer"]
    args = ["--key-id", admin.key_id, "--issuer-id", str(admin.issuer_id)]
    args += ["--private-key-file", str(developer.private_key_file)]
    doc = assert_verdict(
        doctor(cli, shared_sandbox, *args), "APP-101", "key_id_filename_mismatch", "likely"
    )
    assert developer.key_id in doc["findings"][0]["evidence"]
    assert "Apple refused the token" in doc["findings"][0]["evidence"]
    assert check(doc, "key_id_filename")["status"] == "warn"
    assert check(doc, "token_accepted")["status"] == "fail"


def test_renamed_key_file_apple_accepts_is_ok_with_a_warning(
    cli: Any, shared_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    """A file name cannot overrule Apple: the right key under another key's name is OK."""
    admin, developer = shared_sandbox.keys["admin"], shared_sandbox.keys["developer"]
    renamed = tmp_path / f"AuthKey_{developer.key_id}.p8"
    shutil.copy(admin.private_key_file, renamed)
    args = ["--key-id", admin.key_id, "--issuer-id", str(admin.issuer_id)]
    run = doctor(cli, shared_sandbox, *args, "--private-key-file", str(renamed))
    assert run.exit_code == 0, run.stdout
    doc = run.doc
    assert (doc["ok"], doc["code"], doc["findings"]) == (True, None, [])
    assert doc["capabilities"] == ALL_TRUE
    warned = check(doc, "key_id_filename")
    assert warned["status"] == "warn"
    assert developer.key_id in warned["detail"]
    text = cli("doctor", "--api-url", shared_sandbox.base_url, *args,
               "--private-key-file", str(renamed))  # fmt: skip
    assert text.exit_code == 0
    assert "All good" in text.stdout
    assert "warning" in text.stdout


@pytest.mark.parametrize("lifetime", ["1500", "0"])
def test_token_lifetime_invalid(
    cli: Any, key_args: Any, shared_sandbox: RunningSandbox, lifetime: str
) -> None:
    args = [*key_args(shared_sandbox.keys["admin"]), "--token-lifetime", lifetime]
    _offline(cli, shared_sandbox, args, "token_lifetime_invalid")


# --------------------------------------------------------------------------- APP-101 online
def test_key_type_mismatch_team_key_used_as_individual(
    cli: Any, key_args: Any, shared_sandbox: RunningSandbox
) -> None:
    key = shared_sandbox.keys["admin"]
    doc = assert_verdict(
        doctor(cli, shared_sandbox, *key_args(key), "--individual"),
        "APP-101",
        "key_type_mismatch",
        "certain",
    )
    assert doc["key_type"] == "team"
    assert "accepted its team token" in doc["findings"][0]["evidence"]
    assert "This is a team key" in doc["findings"][0]["resolution"][0]
    assert doc["capabilities"] == ALL_TRUE


def test_key_type_mismatch_individual_key_used_as_team(
    cli: Any, key_args: Any, shared_sandbox: RunningSandbox
) -> None:
    key = shared_sandbox.keys["individual-admin"]
    args = [*key_args(key), "--issuer-id", shared_sandbox.issuer_id]
    doc = assert_verdict(doctor(cli, shared_sandbox, *args), "APP-101", "key_type_mismatch",
                         "certain")  # fmt: skip
    assert doc["key_type"] == "individual"


@pytest.mark.parametrize("offset", [-300, 3600])
def test_clock_skew(cli: Any, key_args: Any, sandbox: RunningSandbox, offset: int) -> None:
    sandbox.set_clock_offset(offset)
    doc = assert_verdict(
        doctor(cli, sandbox, *key_args(sandbox.keys["admin"])), "APP-101", "clock_skew", "certain"
    )
    assert abs(doc["clock_skew_seconds"] - offset) < 5
    assert "was accepted" in doc["findings"][0]["evidence"]
    assert check(doc, "clock_skew")["status"] == "warn"
    assert doc["capabilities"] == ALL_TRUE  # measured with a token dated by Apple's clock


def test_small_skew_is_absorbed(cli: Any, key_args: Any, sandbox: RunningSandbox) -> None:
    sandbox.set_clock_offset(45)  # Apple 45 s ahead: the back-dated token still works
    doc = doctor(cli, sandbox, *key_args(sandbox.keys["admin"])).doc
    assert doc["ok"] is True
    assert check(doc, "clock_skew")["status"] == "warn"


def test_revoked_key_never_seen_is_rejected(
    cli: Any, key_args: Any, shared_sandbox: RunningSandbox
) -> None:
    doc = assert_verdict(
        doctor(cli, shared_sandbox, *key_args(shared_sandbox.keys["revoked"])),
        "APP-101",
        "rejected",
        "likely",
    )
    finding = doc["findings"][0]
    assert finding["suspects"]
    assert "refused too" in finding["evidence"]
    assert check(doc, "other_token_shape")["status"] == "fail"
    assert doc["capabilities"] == dict.fromkeys(ALL_TRUE)


def test_unknown_key_is_rejected(cli: Any, shared_sandbox: RunningSandbox, tmp_path: Path) -> None:
    kid = keys.key_id()
    path = keys.write_key_file(tmp_path, keys.p256_key_pem(), name=f"AuthKey_{kid}.p8")
    args = [
        "--key-id",
        kid,
        "--issuer-id",
        shared_sandbox.issuer_id,
        "--private-key-file",
        str(path),
    ]
    assert_verdict(doctor(cli, shared_sandbox, *args), "APP-101", "rejected", "likely")


def test_wrong_issuer_is_rejected_with_issuer_first(
    cli: Any, key_args: Any, shared_sandbox: RunningSandbox
) -> None:
    key = shared_sandbox.keys["admin"]
    other = keys.issuer_id()
    args = [*key_args(key, issuer=False), "--issuer-id", other]
    doc = assert_verdict(doctor(cli, shared_sandbox, *args), "APP-101", "rejected", "likely")
    assert other in doc["findings"][0]["suspects"][0]  # file named for the key: issuer leads


def test_revoked_after_working(cli: Any, key_args: Any, sandbox: RunningSandbox) -> None:
    key = sandbox.issue_key("team", role="ADMIN")
    saved = cli("connect", "ci", "--json", "--api-url", sandbox.base_url, *key_args(key))
    assert saved.exit_code == 0, saved.stdout
    sandbox.revoke_key(key.key_id)
    run = cli("doctor", "ci", "--json")
    doc = assert_verdict(run, "APP-101", "revoked_after_working", "likely")
    assert doc["connection"] == "ci"
    shown = cli("connections", "show", "ci", "--json").doc
    assert shown["healthy"] is False
    assert (shown["health_code"], shown["health_cause"]) == ("APP-101", "revoked_after_working")
    assert shown["last_ok_at"] is not None


# --------------------------------------------------------------------------- APP-102
def test_developer_team_key_is_role_insufficient(
    cli: Any, key_args: Any, shared_sandbox: RunningSandbox
) -> None:
    doc = assert_verdict(
        doctor(cli, shared_sandbox, *key_args(shared_sandbox.keys["developer"])),
        "APP-102",
        "key_role_insufficient",
        "certain",
    )
    caps = doc["capabilities"]
    assert caps["read_apps"] is True
    assert caps["read_users"] is False
    assert caps["manage_users"] is False


def test_individual_developer_key_is_limited(
    cli: Any, key_args: Any, shared_sandbox: RunningSandbox
) -> None:
    doc = assert_verdict(
        doctor(cli, shared_sandbox, *key_args(shared_sandbox.keys["individual-developer"])),
        "APP-102",
        "individual_key_limited",
        "certain",
    )
    assert doc["capabilities"]["read_apps"] is True
    assert doc["capabilities"]["read_users"] is False


def test_permissions_revoked(cli: Any, key_args: Any, sandbox: RunningSandbox) -> None:
    key = sandbox.keys["individual-admin"]
    assert key.user
    saved = cli("connect", "mine", "--json", "--api-url", sandbox.base_url, *key_args(key))
    assert saved.doc["saved"] is True
    sandbox.set_roles(key.user, ["DEVELOPER"])
    doc = assert_verdict(cli("doctor", "mine", "--json"), "APP-102", "permissions_revoked",
                         "certain")  # fmt: skip
    assert "read users" in doc["findings"][0]["evidence"]


# --------------------------------------------------------------------------- APP-103..107
def test_agreements_missing(cli: Any, key_args: Any, sandbox: RunningSandbox) -> None:
    sandbox.set_agreements(False)
    doc = assert_verdict(
        doctor(cli, sandbox, *key_args(sandbox.keys["admin"])),
        "APP-103",
        "agreements_missing",
        "certain",
    )
    assert "Account Holder" in doc["findings"][0]["resolution"][0]
    assert check(doc, "agreements")["status"] == "fail"


def test_rate_limited(cli: Any, key_args: Any, sandbox: RunningSandbox) -> None:
    sandbox.set_rate_limit(2)
    doc = assert_verdict(
        doctor(cli, sandbox, *key_args(sandbox.keys["admin"])), "APP-104", "rate_limited", "certain"
    )
    assert doc["rate_limit"]["limit"] == 2


def test_rate_budget_exhausted_by_others(cli: Any, key_args: Any, sandbox: RunningSandbox) -> None:
    sandbox.set_rate_limit(1)
    key = sandbox.keys["admin"]
    first = doctor(cli, sandbox, *key_args(key))
    assert_verdict(first, "APP-104", "rate_limited", "certain")
    again = doctor(cli, sandbox, *key_args(key))  # 429 straight away
    doc = assert_verdict(again, "APP-104", "rate_limited", "certain")
    assert doc["rate_limit"]["remaining"] == 0


@pytest.mark.parametrize("status", [500, 503])
def test_apple_unavailable(cli: Any, key_args: Any, sandbox: RunningSandbox, status: int) -> None:
    sandbox.add_fault(status=status, rate=1.0)
    assert_verdict(
        doctor(cli, sandbox, *key_args(sandbox.keys["admin"])),
        "APP-105",
        "apple_unavailable",
        "certain",
    )
    assert sandbox.stats()["requests"] >= 2  # retried before giving up


def test_network_unreachable(cli: Any, key_args: Any, shared_sandbox: RunningSandbox) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    run = cli("doctor", "--json", "--api-url", url, *key_args(shared_sandbox.keys["admin"]))
    doc = assert_verdict(run, "APP-106", "network_unreachable", "certain")
    assert any(url in step for step in doc["findings"][0]["resolution"])


def test_unexpected_response(cli: Any, key_args: Any, sandbox: RunningSandbox) -> None:
    sandbox.add_fault(malformed=True, rate=1.0)
    assert_verdict(
        doctor(cli, sandbox, *key_args(sandbox.keys["admin"])),
        "APP-107",
        "unexpected_response",
        "certain",
    )


def test_api_url_that_is_not_the_api(
    cli: Any, key_args: Any, shared_sandbox: RunningSandbox
) -> None:
    url = shared_sandbox.base_url + "/not-the-api"
    run = cli("doctor", "--json", "--api-url", url, *key_args(shared_sandbox.keys["admin"]))
    assert_verdict(run, "APP-107", "unexpected_response", "certain")


# --------------------------------------------------------------------------- usage and sources
def test_missing_values_are_usage_errors(cli: Any, shared_sandbox: RunningSandbox) -> None:
    run = doctor(cli, shared_sandbox)
    assert run.exit_code == 2
    doc = run.doc
    assert doc["ok"] is False
    assert doc["code"] is None
    assert "no Key ID" in doc["error"]
    assert check(doc, "key_id_format")["status"] == "fail"


def test_unknown_connection_is_a_usage_error(cli: Any) -> None:
    run = cli("doctor", "nope", "--json")
    assert run.exit_code == 2
    assert "no connection named 'nope'" in run.doc["error"]
    human = cli("doctor", "nope")
    assert human.exit_code == 2
    assert "nope" in human.stderr


def test_env_credentials_and_flag_conflict(
    cli: Any, key_args: Any, shared_sandbox: RunningSandbox
) -> None:
    admin, developer = shared_sandbox.keys["admin"], shared_sandbox.keys["developer"]
    env = {
        "ASC_KEY_ID": developer.key_id,
        "ASC_ISSUER_ID": str(developer.issuer_id),
        "ASC_PRIVATE_KEY": developer.private_key_pem.replace("\n", "\\n"),
        "ASC_ACCESS_API_URL": shared_sandbox.base_url,
    }
    only_env = cli("doctor", "--json", env=env)
    assert only_env.doc["cause"] == "key_role_insufficient"  # the env's developer key
    run = cli("doctor", "--json", *key_args(admin), env=env)
    assert run.exit_code == 0  # flags win
    sources = check(run.doc, "sources")
    assert sources["status"] == "warn"
    assert "Key ID: flag --key-id wins over env ASC_KEY_ID" in sources["detail"]
    assert "private key: file" in sources["detail"]


def test_fastlane_json_and_stdin(cli: Any, shared_sandbox: RunningSandbox, tmp_path: Path) -> None:
    import json

    key = shared_sandbox.keys["admin"]
    path = tmp_path / "fastlane.json"
    path.write_text(json.dumps({"key_id": key.key_id, "issuer_id": key.issuer_id,
                                "key": key.private_key_pem, "duration": 900}))  # fmt: skip
    assert doctor(cli, shared_sandbox, "--api-key-json", str(path)).exit_code == 0
    args = ["--key-id", key.key_id, "--issuer-id", str(key.issuer_id), "--private-key-file", "-"]
    run = cli("doctor", "--json", "--api-url", shared_sandbox.base_url, *args,
              stdin=key.private_key_pem)  # fmt: skip
    assert run.exit_code == 0
    assert "stdin" in check(run.doc, "sources")["detail"]


def test_others_readable_key_file_is_a_warning(
    cli: Any, shared_sandbox: RunningSandbox, tmp_path: Path
) -> None:
    key = shared_sandbox.keys["admin"]
    copy = tmp_path / key.private_key_file.name
    shutil.copy(key.private_key_file, copy)
    copy.chmod(0o644)
    args = ["--key-id", key.key_id, "--issuer-id", str(key.issuer_id)]
    run = doctor(cli, shared_sandbox, *args, "--private-key-file", str(copy))
    assert run.exit_code == 0
    assert check(run.doc, "private_key_file")["status"] == "warn"


def test_a_skew_that_tokens_absorb_is_not_blamed(
    cli: Any, key_args: Any, sandbox: RunningSandbox
) -> None:
    sandbox.set_clock_offset(100)  # Apple 100 s ahead: our tokens are still valid on its clock
    doc = assert_verdict(
        doctor(cli, sandbox, *key_args(sandbox.keys["revoked"])), "APP-101", "rejected", "likely"
    )
    assert [f["cause"] for f in doc["findings"]] == ["rejected"]
    assert check(doc, "clock_corrected_token")["status"] == "fail"
    assert "100 s off" in doc["findings"][0]["evidence"]


def test_a_breaking_skew_and_a_bad_key_are_both_reported(
    cli: Any, key_args: Any, sandbox: RunningSandbox
) -> None:
    sandbox.set_clock_offset(-300)  # our tokens look issued in the future
    doc = assert_verdict(
        doctor(cli, sandbox, *key_args(sandbox.keys["revoked"])), "APP-101", "clock_skew", "certain"
    )
    assert [f["cause"] for f in doc["findings"]] == ["clock_skew", "rejected"]
    assert "refused too" in doc["findings"][0]["evidence"]


def test_every_catalogue_cause_is_staged_in_this_module() -> None:
    import ast

    from asc_access.catalogue import CODE_CAUSES

    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
    missing = [c for causes in CODE_CAUSES.values() for c in causes if c not in strings]
    assert missing == []
