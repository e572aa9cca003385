"""Query strings for Apple's collection endpoints, built and checked in one place.

Array parameters are comma-joined into one value (``filter[roles]=ADMIN,DEVELOPER``,
OpenAPI ``style: form, explode: false``). Limits are checked locally (``limit``
at most 200, ``limit[visibleApps]`` at most 50) so a caller's mistake is a
:class:`~asc_access.errors.UsageError`, not a round trip ending in a 400.
"""

from __future__ import annotations

from collections.abc import Iterable

from asc_access.errors import UsageError

__all__ = [
    "APP_LIST_FIELDS",
    "APP_SORTS",
    "INVITATION_FIELDS",
    "INVITATION_SORTS",
    "MAX_INCLUDED_LIMIT",
    "MAX_LIMIT",
    "USER_FIELDS",
    "USER_SORTS",
    "Query",
    "Values",
]

MAX_LIMIT = 200
MAX_INCLUDED_LIMIT = 50

USER_FIELDS = frozenset(
    {
        "username",
        "firstName",
        "lastName",
        "roles",
        "allAppsVisible",
        "provisioningAllowed",
        "visibleApps",
    }
)
INVITATION_FIELDS = frozenset(
    {
        "email",
        "firstName",
        "lastName",
        "expirationDate",
        "roles",
        "allAppsVisible",
        "provisioningAllowed",
        "visibleApps",
    }
)
USER_SORTS = frozenset({"username", "-username", "lastName", "-lastName"})
INVITATION_SORTS = frozenset({"email", "-email", "lastName", "-lastName"})
APP_SORTS = frozenset({"name", "-name", "bundleId", "-bundleId", "sku", "-sku"})
#: The app attributes the client reads; asking for just these keeps pages small.
APP_LIST_FIELDS: tuple[str, ...] = ("name", "bundleId", "sku", "primaryLocale")

#: One value or several; ``None`` means "parameter not sent".
Values = str | Iterable[str] | None


def _values(name: str, values: str | Iterable[str]) -> list[str]:
    items = [values] if isinstance(values, str) else [str(v) for v in values]
    if not items:
        raise UsageError(f"{name} needs at least one value (leave it out to not filter)")
    for item in items:
        if not item or "," in item:
            raise UsageError(f"{name}: {item!r} is empty or contains a comma")
    return items


class Query:
    """An ordered list of query parameters, added through checked methods."""

    def __init__(self) -> None:
        self._params: list[tuple[str, str]] = []

    def params(self) -> list[tuple[str, str]]:
        """The parameters in the order they were added."""
        return list(self._params)

    def _add(self, name: str, items: list[str]) -> Query:
        self._params.append((name, ",".join(items)))
        return self

    def filter(self, field: str, values: Values) -> Query:
        """``filter[field]=a,b`` (nothing when ``values`` is ``None``)."""
        if values is None:
            return self
        return self._add(f"filter[{field}]", _values(f"filter[{field}]", values))

    def sort(self, values: Values, allowed: frozenset[str]) -> Query:
        """``sort=a,-b`` from the values Apple allows for this collection."""
        if values is None:
            return self
        items = _values("sort", values)
        unknown = [v for v in items if v not in allowed]
        if unknown:
            raise UsageError(f"cannot sort by {', '.join(unknown)}; use {sorted(allowed)}")
        return self._add("sort", items)

    def fields(self, kind: str, values: Values, allowed: frozenset[str] | None = None) -> Query:
        """``fields[kind]=a,b`` (sparse fieldset), checked against ``allowed`` when given."""
        if values is None:
            return self
        items = _values(f"fields[{kind}]", values)
        if allowed is not None:
            unknown = [v for v in items if v not in allowed]
            if unknown:
                raise UsageError(f"fields[{kind}] has no {', '.join(unknown)}")
        return self._add(f"fields[{kind}]", items)

    def include(self, names: Values) -> Query:
        """``include=a,b`` (related resources to put in ``included[]``)."""
        if names is None:
            return self
        return self._add("include", _values("include", names))

    def limit(self, value: int | None, *, name: str = "limit", maximum: int = MAX_LIMIT) -> Query:
        """``limit=N`` or ``limit[relationship]=N``, with ``1 <= N <= maximum``."""
        if value is None:
            return self
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
            raise UsageError(f"{name} must be a whole number from 1 to {maximum}, not {value!r}")
        self._params.append((name, str(value)))
        return self
