"""The catalogue is the one table: the error tree, the client's rules and the doctor read it."""

from __future__ import annotations

import pytest

from asc_access import errors
from asc_access.api.classify import RULES, classify
from asc_access.catalogue import (
    APPLE_CODES,
    CAUSES,
    CODE_CAUSES,
    CODES,
    apple_codes_for,
    code_of,
    defaults_for,
)
from asc_access.errors import (
    AgreementsError,
    ApiError,
    AppleError,
    AscAccessError,
    ResourceNotFoundError,
    UnexpectedResponseError,
)

_CLASSES = [
    cls
    for cls in vars(errors).values()
    if isinstance(cls, type) and issubclass(cls, AscAccessError)
]


@pytest.mark.parametrize("cls", _CLASSES, ids=lambda c: c.__name__)
def test_error_defaults_come_from_the_table(cls: type[AscAccessError]) -> None:
    own = defaults_for(cls.__name__)
    if own == (None, None):  # no row of its own: inherits its parent's
        parent = cls.__mro__[1]
        assert (cls.default_code, cls.default_cause) == (
            getattr(parent, "default_code", None),
            getattr(parent, "default_cause", None),
        )
    else:
        assert (cls.default_code, cls.default_cause) == own
    if cls.default_cause is not None:
        item = CAUSES[cls.default_cause]
        assert item.error == cls.__name__
        assert item.code == cls.default_code


def test_every_named_error_class_exists() -> None:
    named = {item.error for item in CAUSES.values() if item.error}
    assert named <= {cls.__name__ for cls in _CLASSES}
    assert len(named) == 7


def test_codes_and_causes_are_one_table() -> None:
    assert set(CODE_CAUSES) == set(CODES)
    assert [c for causes in CODE_CAUSES.values() for c in causes] == list(CAUSES)
    assert all(code_of(cause) == item.code for cause, item in CAUSES.items())


def test_every_coded_row_is_a_client_rule() -> None:
    rules = {(next(iter(r.statuses)), r.code_prefix) for r in RULES if r.statuses and r.code_prefix}
    rows = {(item.status, item.code) for item in APPLE_CODES if item.code}
    assert rows == rules


def test_rows_name_catalogued_causes() -> None:
    assert {item.cause for item in APPLE_CODES if item.cause} <= set(CAUSES)
    assert [item.code for item in apple_codes_for("agreements_missing")] == [
        "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED",
        "FORBIDDEN",
    ]


def _doc(status: int, *codes: str) -> tuple[AppleError, ...]:
    return tuple(AppleError(str(status), code) for code in codes)


@pytest.mark.parametrize(
    ("status", "codes", "expected"),
    [
        (404, ("SOMETHING_NEW",), ResourceNotFoundError),  # Apple's document: absent
        (404, (), UnexpectedResponseError),  # no document: not Apple at this URL
        (404, ("NOT_FOUND", "PATH_ERROR"), UnexpectedResponseError),  # the path outranks
        (
            403,
            ("FORBIDDEN_ERROR", "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED"),
            AgreementsError,
        ),
    ],
)
def test_table_order_sets_precedence(
    status: int, codes: tuple[str, ...], expected: type[ApiError]
) -> None:
    assert classify(status, _doc(status, *codes)).error is expected
