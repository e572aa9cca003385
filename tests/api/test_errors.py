"""Apple's error answers become the right error class, with their full context."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from asc_access.api import RULES, classify
from asc_access.errors import (
    AgreementsError,
    ApiError,
    AppleError,
    AuthenticationError,
    ConflictError,
    PermissionDeniedError,
    RateLimitedError,
    RateLimitSnapshot,
    RequestRejectedError,
    ResourceNotFoundError,
    ServerError,
    UnexpectedResponseError,
)

AGREEMENT_2020 = "The Account Holder must accept the latest Program License Agreement."

# (status, Apple code or None for a non-JSON body, detail, expected class, catalogue code)
TABLE: list[tuple[int, str | None, str, type[ApiError], str | None]] = [
    (401, "NOT_AUTHORIZED", "Provide a properly configured token", AuthenticationError, "APP-101"),
    (401, None, "", AuthenticationError, "APP-101"),
    (
        403,
        "FORBIDDEN_ERROR",
        "The API key in use does not allow this request",
        PermissionDeniedError,
        "APP-102",
    ),
    (403, "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED", "accept", AgreementsError, "APP-103"),
    (403, "FORBIDDEN", AGREEMENT_2020, AgreementsError, "APP-103"),
    (403, "FORBIDDEN", "Access to this resource is not allowed", PermissionDeniedError, "APP-102"),
    (403, None, "", PermissionDeniedError, "APP-102"),
    (429, "RATE_LIMIT_EXCEEDED", "We've received too many requests", RateLimitedError, "APP-104"),
    (
        404,
        "NOT_FOUND",
        "There is no resource of type 'users' with id 'x'",
        ResourceNotFoundError,
        None,
    ),
    (404, "PATH_ERROR", "The URL path is not valid", UnexpectedResponseError, "APP-107"),
    (404, None, "", UnexpectedResponseError, "APP-107"),
    (410, "GONE", "The invitation was accepted", ResourceNotFoundError, None),
    (410, None, "", ResourceNotFoundError, None),
    (409, "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE", "already invited", ConflictError, None),
    (409, "STATE_ERROR.ENTITY_STATE_INVALID", "state", ConflictError, None),
    (
        400,
        "PARAMETER_ERROR.INVALID",
        "'emaill' is not a valid filter type",
        RequestRejectedError,
        None,
    ),
    (400, "ENTITY_INVALID", "body is not JSON", RequestRejectedError, None),
    (405, "METHOD_NOT_ALLOWED", "no", RequestRejectedError, None),
    (406, None, "", RequestRejectedError, None),
    (415, "ENTITY_INVALID", "Content-Type", RequestRejectedError, None),
    (
        422,
        "ENTITY_UNPROCESSABLE",
        "Unexpected or invalid value at 'type'.",
        RequestRejectedError,
        None,
    ),
    (418, "TEAPOT", "", RequestRejectedError, None),
    (
        500,
        "UNEXPECTED_ERROR",
        "An unexpected error occurred on the server side.",
        ServerError,
        "APP-105",
    ),
    (502, None, "", ServerError, "APP-105"),
    (503, "SERVICE_UNAVAILABLE", "", ServerError, "APP-105"),
    (302, None, "", UnexpectedResponseError, "APP-107"),
]


def _exact(error: ApiError, expected: type[ApiError]) -> bool:
    return type(error) is expected


@pytest.mark.parametrize(("status", "code", "detail", "expected", "catalogue"), TABLE)
async def test_status_and_code_map_to_the_error_class(
    make_client: Any,
    h: Any,
    status: int,
    code: str | None,
    detail: str,
    expected: type[ApiError],
    catalogue: str | None,
) -> None:
    reply = h.fail(status, code, title="Title", detail=detail, Retry_After="0")
    script = h.Script(*([reply] * 8))
    client = make_client(script)
    with pytest.raises(ApiError) as caught:
        await client.users.get("u-1")
    error = caught.value
    assert _exact(error, expected), (type(error), expected)
    assert error.code == catalogue
    assert error.method == "GET"
    assert error.path == "/v1/users/u-1"
    assert error.status == status
    assert error.request_id == f"req-{status}"
    assert error.rate_limit == RateLimitSnapshot(limit=3600, remaining=3500)
    if code is None:
        assert error.errors == ()
        assert "oops" in error.context["excerpt"]
    else:
        assert error.apple_code == code
        assert error.errors[0].detail == detail
        assert code in str(error)


def test_every_apple_code_in_the_notes_is_classified() -> None:
    """The codes of asc-api-notes.md §3.3 and the 409 vocabulary, by class."""
    vocabulary = {
        (401, "NOT_AUTHORIZED"): AuthenticationError,
        (403, "FORBIDDEN_ERROR"): PermissionDeniedError,
        (403, "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED"): AgreementsError,
        (404, "NOT_FOUND"): ResourceNotFoundError,
        (404, "PATH_ERROR"): UnexpectedResponseError,
        (405, "METHOD_NOT_ALLOWED"): RequestRejectedError,
        (400, "PARAMETER_ERROR.INVALID"): RequestRejectedError,
        (400, "PARAMETER_ERROR.ILLEGAL"): RequestRejectedError,
        (400, "PARAMETER_ERROR.REQUIRED"): RequestRejectedError,
        (400, "ENTITY_INVALID"): RequestRejectedError,
        (422, "ENTITY_UNPROCESSABLE"): RequestRejectedError,
        (409, "ENTITY_ERROR"): ConflictError,
        (409, "ENTITY_ERROR.ATTRIBUTE.INVALID"): ConflictError,
        (409, "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE"): ConflictError,
        (409, "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE.DIFFERENT_ACCOUNT"): ConflictError,
        (409, "ENTITY_ERROR.ATTRIBUTE.INVALID.ALREADY_EXISTS"): ConflictError,
        (409, "ENTITY_ERROR.ATTRIBUTE.INVALID.UNMODIFIABLE"): ConflictError,
        (409, "ENTITY_ERROR.RELATIONSHIP.INVALID"): ConflictError,
        (409, "STATE_ERROR.ALREADY_EXISTS"): ConflictError,
        (409, "STATE_ERROR.ENTITY_STATE_INVALID"): ConflictError,
        (429, "RATE_LIMIT_EXCEEDED"): RateLimitedError,
        (500, "UNEXPECTED_ERROR"): ServerError,
    }
    for (status, code), expected in vocabulary.items():
        rule = classify(status, (AppleError(status=str(status), code=code, title="t"),))
        assert rule.error is expected, (status, code, rule.error)


def test_prefix_matching_follows_the_dotted_hierarchy() -> None:
    """FORBIDDEN_ERROR is not under FORBIDDEN: wording about agreements must not make it APP-103."""
    error = AppleError(status="403", code="FORBIDDEN_ERROR", title="t", detail="agreement")
    assert classify(403, (error,)).error is PermissionDeniedError
    nested = AppleError(status="403", code="FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED.X")
    assert classify(403, (nested,)).error is AgreementsError


def test_any_error_in_the_document_can_select_the_rule() -> None:
    first = AppleError(status="403", code="SOMETHING_ELSE", title="t")
    second = AppleError(status="403", code="FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED")
    assert classify(403, (first, second)).error is AgreementsError


def test_the_table_ends_with_a_catch_all_and_actions_are_known() -> None:
    assert RULES[-1].statuses is None
    assert RULES[-1].code_prefix is None
    assert {rule.action for rule in RULES} == {"remint", "retry", "fail"}
    assert classify(199).error is UnexpectedResponseError


async def test_error_document_details_are_kept(make_client: Any, h: Any) -> None:
    document = {
        "errors": [
            {
                "status": "409",
                "code": "ENTITY_ERROR.ATTRIBUTE.INVALID",
                "title": "The provided entity includes an attribute with an invalid value",
                "source": {"pointer": "/data/attributes/email"},
                "meta": {
                    "associatedErrors": {
                        "/v1/userInvitations": [
                            {"code": "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE", "status": "409"}
                        ]
                    }
                },
                "links": {"see": "/business"},
            },
            {"status": 409, "code": "STATE_ERROR", "title": "second"},
        ]
    }
    client = make_client(h.Script(httpx.Response(409, json=document)))
    with pytest.raises(ConflictError) as caught:
        await client.invitations.create(
            email="a@example.com", first_name="A", last_name="B", roles=["DEVELOPER"]
        )
    first, second = caught.value.errors
    assert first.detail == ""
    assert first.source == {"pointer": "/data/attributes/email"}
    assert first.links == {"see": "/business"}
    assert second.status == "409"
    from asc_access.api import associated_errors

    (nested,) = associated_errors(first)
    assert nested.code == "ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE"
    assert "(+1 more)" in caught.value.message
    assert caught.value.as_dict()["errors"][0]["source"] == {"pointer": "/data/attributes/email"}
    assert caught.value.rate_limit is None  # no header on that response, none seen before


async def test_error_without_rate_header_carries_the_latest_snapshot(
    make_client: Any, h: Any
) -> None:
    client = make_client(
        h.Script(h.ok(h.collection([])), httpx.Response(404, json={"errors": [{"code": "X"}]}))
    )
    await client.apps.list()
    with pytest.raises(ResourceNotFoundError) as caught:
        await client.apps.get("1")
    assert caught.value.rate_limit == RateLimitSnapshot(limit=3600, remaining=3500)


def test_classification_agrees_with_the_diagnosis_table() -> None:
    """``asc_access.catalogue.APPLE_CODES`` agrees with the rules: same action, same cause."""
    from asc_access.catalogue import APPLE_CODES

    for entry in APPLE_CODES:
        wording = "Program License Agreement" if entry.kind == "agreements" else "detail"
        errors = (
            (AppleError(status=str(entry.status), code=entry.code, title="t", detail=wording),)
            if entry.code is not None
            else ()
        )
        rule = classify(entry.status, errors)
        assert rule.action == entry.action, entry
        assert rule.error.default_cause == entry.cause, entry
