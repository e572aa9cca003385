"""The diagnosis table: complete, consistent with the catalogue, the client and docs/errors.md."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from asc_access.api.classify import classify
from asc_access.catalogue import CODE_CAUSES as CATALOGUE
from asc_access.catalogue import code_of
from asc_access.diagnosis import APPLE_CODES, CAUSES, fill, finding_for, lookup, make_finding
from asc_access.diagnosis.docs import render_markdown
from asc_access.errors import (
    AgreementsError,
    AppleError,
    AuthenticationError,
    ConflictError,
    CredentialError,
    NotFoundLocallyError,
    PermissionDeniedError,
    RateLimitedError,
    RequestRejectedError,
    ResourceNotFoundError,
    SecretStoreError,
    ServerError,
    TransportError,
    UnexpectedResponseError,
    UsageError,
)

ROOT = Path(__file__).resolve().parents[2]
ALL_CAUSES = [cause for causes in CATALOGUE.values() for cause in causes]

#: Every Apple error code in asc-api-notes.md §3.3, the 409 sub-codes included.
APPLE_DOCUMENTED = [
    (401, "NOT_AUTHORIZED"),
    (403, "FORBIDDEN_ERROR"),
    (403, "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED"),
    (403, "FORBIDDEN"),
    (404, "NOT_FOUND"),
    (404, "PATH_ERROR"),
    (405, "METHOD_NOT_ALLOWED"),
    (400, "PARAMETER_ERROR.INVALID"),
    (400, "PARAMETER_ERROR.ILLEGAL"),
    (400, "PARAMETER_ERROR.REQUIRED"),
    (400, "ENTITY_INVALID"),
    (422, "ENTITY_UNPROCESSABLE"),
    (409, "ENTITY_ERROR"),
    (429, "RATE_LIMIT_EXCEEDED"),
    (500, "UNEXPECTED_ERROR"),
    (409, "ENTITY_ERROR.ATTRIBUTE.INVALID"),
    (409, "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE"),
    (409, "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE.DIFFERENT_ACCOUNT"),
    (409, "ENTITY_ERROR.ATTRIBUTE.INVALID.ALREADY_EXISTS"),
    (409, "ENTITY_ERROR.ATTRIBUTE.INVALID.UNMODIFIABLE"),
    (409, "ENTITY_ERROR.ATTRIBUTE.UNKNOWN"),
    (409, "ENTITY_ERROR.RELATIONSHIP.INVALID"),
    (409, "STATE_ERROR.ALREADY_EXISTS"),
    (409, "STATE_ERROR.ENTITY_STATE_INVALID"),
]

OFFLINE = {
    "key_id_malformed",
    "issuer_id_malformed",
    "ids_swapped",
    "private_key_unreadable",
    "private_key_wrong_type",
    "private_key_encrypted",
    "token_lifetime_invalid",
}
NAMES_ASC_MENUS = {
    "key_id_malformed",
    "issuer_id_malformed",
    "ids_swapped",
    "private_key_unreadable",
    "private_key_wrong_type",
    "key_id_filename_mismatch",
    "key_type_mismatch",
    "rejected",
    "revoked_after_working",
    "key_role_insufficient",
    "permissions_revoked",
    "individual_key_limited",
    "rate_limited",
}


def test_docs_errors_md_is_identical_to_the_table() -> None:
    path = ROOT / "docs" / "errors.md"
    expected = render_markdown()
    assert path.read_text(encoding="utf-8") == expected, (
        "docs/errors.md differs from the diagnosis table: run "
        "`python -m asc_access.diagnosis.docs > docs/errors.md`"
    )


def test_docs_list_every_code_cause_and_step() -> None:
    text = render_markdown()
    for code, causes in CATALOGUE.items():
        assert f"## {code}:" in text
        for cause in causes:
            assert f"### `{cause}`:" in text
            for step in CAUSES[cause].resolution:
                assert fill(step, {"message": "", "detail": ""})[:40] in text


def test_the_table_covers_exactly_the_catalogue() -> None:
    assert sorted(CAUSES) == sorted(ALL_CAUSES)


@pytest.mark.parametrize("cause", ALL_CAUSES)
def test_every_entry_is_complete(cause: str) -> None:
    item = CAUSES[cause]
    assert item.code == code_of(cause)
    assert item.title
    assert not item.title.endswith(".")
    assert len(item.meaning) > 40
    assert item.certainty_rule.startswith(("certain", "likely"))
    assert len(item.resolution) >= 2
    finding = make_finding(cause)
    for text in (finding.evidence, *finding.resolution):
        assert "{" not in text
        assert "}" not in text
    if cause in OFFLINE:
        assert item.certainty == "certain"
    if cause in NAMES_ASC_MENUS:
        assert any("Users and Access" in step for step in item.resolution), cause


def test_only_opaque_401_causes_are_likely_by_default() -> None:
    likely = {c for c, e in CAUSES.items() if e.certainty == "likely"}
    # key_id_filename_mismatch: a file name is a clue, named only once Apple refuses (a 401).
    assert likely == {
        "rejected",
        "revoked_after_working",
        "permissions_revoked",
        "key_id_filename_mismatch",
    }


def test_agreements_steps_name_the_account_holder_and_business() -> None:
    steps = " ".join(CAUSES["agreements_missing"].resolution)
    assert "Account Holder" in steps
    assert "**Business**" in steps


@pytest.mark.parametrize(("status", "code"), APPLE_DOCUMENTED)
def test_every_documented_apple_code_has_its_own_entry(status: int, code: str) -> None:
    found = lookup(status, code)
    assert found is not None
    assert found.code == code


def _sandbox_codes() -> set[str]:
    """Apple-style codes that appear as string constants in the sandbox's source."""
    pattern = re.compile(
        r"^(NOT_AUTHORIZED|FORBIDDEN[._A-Z]*|NOT_FOUND|PATH_ERROR|METHOD_NOT_ALLOWED|"
        r"NOT_ACCEPTABLE|PARAMETER_ERROR[._A-Z]*|ENTITY_[A-Z_]+(\.[A-Z_.]+)?|STATE_ERROR[._A-Z]*|"
        r"RATE_LIMIT_EXCEEDED|UNEXPECTED_ERROR|BAD_GATEWAY|SERVICE_UNAVAILABLE)$"
    )
    found: set[str] = set()
    for path in (ROOT / "src" / "asc_access" / "sandbox").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            value = node.value if isinstance(node, ast.Constant) else None
            if isinstance(value, str) and pattern.match(value):
                found.add(value)
    return found


def test_every_code_the_sandbox_emits_has_an_entry() -> None:
    codes = _sandbox_codes()
    assert len(codes) >= 15  # the scan does find the sandbox's vocabulary
    known = {item.code for item in APPLE_CODES}
    assert sorted(codes - known) == []


_KIND_CLASS = {
    "authentication": AuthenticationError,
    "permission": PermissionDeniedError,
    "agreements": AgreementsError,
    "not_found": ResourceNotFoundError,
    "gone": ResourceNotFoundError,
    "bad_request": RequestRejectedError,
    "conflict": ConflictError,
    "rate_limit": RateLimitedError,
    "server": ServerError,
}


@pytest.mark.parametrize("item", APPLE_CODES, ids=lambda i: f"{i.status}-{i.code}")
def test_the_table_agrees_with_the_clients_classification(item: object) -> None:
    from asc_access.diagnosis import AppleCodeEntry

    assert isinstance(item, AppleCodeEntry)
    errors = (
        (AppleError(str(item.status), item.code, title=item.title, detail=item.meaning),)
        if item.code
        else ()
    )
    if item.status == 404 and not errors:
        return  # no document: not Apple's API (covered by PATH_ERROR below)
    rule = classify(item.status, errors)
    expected = _KIND_CLASS[item.kind]
    if item.code == "PATH_ERROR":  # not Apple's API at this URL: APP-107
        expected = UnexpectedResponseError
    assert rule.error is expected, (item.status, item.code, rule)
    assert rule.action == item.action
    if item.cause and item.code != "FORBIDDEN" and rule.error.default_cause:
        assert rule.error.default_cause == item.cause


@pytest.mark.parametrize(
    ("error", "code", "cause", "certainty"),
    [
        (
            CredentialError("x", cause="ids_swapped", source="flag"),
            "APP-101",
            "ids_swapped",
            "certain",
        ),
        (AuthenticationError("401", status=401), "APP-101", "rejected", "likely"),
        (PermissionDeniedError("403", status=403), "APP-102", "key_role_insufficient", "certain"),
        (AgreementsError("403", status=403), "APP-103", "agreements_missing", "certain"),
        (RateLimitedError("429", status=429), "APP-104", "rate_limited", "certain"),
        (ServerError("500", status=500), "APP-105", "apple_unavailable", "certain"),
        (TransportError("down"), "APP-106", "network_unreachable", "certain"),
        (UnexpectedResponseError("junk"), "APP-107", "unexpected_response", "certain"),
    ],
)
def test_finding_for_catalogued_errors(
    error: Exception, code: str, cause: str, certainty: str
) -> None:
    assert isinstance(error, CredentialError | AuthenticationError | PermissionDeniedError
                      | AgreementsError | RateLimitedError | ServerError | TransportError
                      | UnexpectedResponseError)  # fmt: skip
    finding = finding_for(error, {"key_id": "ABCDE12345", "name": "prod"})
    assert (finding.code, finding.cause, finding.certainty) == (code, cause, certainty)
    assert finding.resolution
    assert finding.as_dict()["resolution"] == list(finding.resolution)


def test_finding_for_uncatalogued_errors() -> None:
    conflict = ConflictError(
        "409",
        method="POST",
        path="/v1/userInvitations",
        status=409,
        errors=(
            AppleError(
                "409",
                "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE",
                detail="already invited",
                source={"pointer": "/data/attributes/email"},
            ),
        ),
        request_id="REQ-1",
    )
    finding = finding_for(conflict)
    assert finding.code is None
    assert "duplicates" in finding.title
    assert "REQ-1" in finding.evidence
    assert "/data/attributes/email" in finding.evidence
    assert finding_for(SecretStoreError("nope")).title.startswith("The stored private key")
    assert "connections" in finding_for(NotFoundLocallyError("no x")).resolution[0]
    assert finding_for(UsageError("bad")).evidence == "bad"


def test_lookup_prefers_the_longest_prefix_and_falls_back_by_status() -> None:
    deep = lookup(409, "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE.SOMETHING_NEW")
    assert deep is not None
    assert deep.code == "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE"
    fallback = lookup(409, "TOTALLY_NEW")
    assert fallback is not None
    assert fallback.code is None
    assert lookup(599, None) is not None
    assert lookup(None, None) is None
