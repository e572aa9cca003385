"""Plain ``str`` / ``int`` / ``bool`` parameters converted without pydantic.

Typer converts every parameter value (even an absent ``--help``) through a
pydantic ``TypeAdapter``; importing pydantic costs a command's start-up tens of
milliseconds (issue #14: the doctor's first request), for values that need no
more than ``int("600")``. :func:`plain_coercion` gives such parameters a small
converter; values it does not take (bytes, ``" 600"``, ``"abc"``) go to
typer's own, which gives its usual answers and error messages.
"""

from __future__ import annotations

import re
from typing import Any

from typer import _click as click

__all__ = ["plain_coercion"]

_DIGITS = re.compile(r"-?[0-9]+")
_PLAIN = (str, int, bool)


class _PlainCoercion:
    """Typer's runtime-conversion contract (``coerce``) for one plain parameter."""

    def __init__(self, param: Any) -> None:
        self._param = param
        self._annotation = param.type_descriptor.annotation

    def coerce(self, value: Any, param: Any, ctx: click.Context) -> Any:
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str) and self._annotation is str:
            return value
        if isinstance(value, str) and self._annotation is int and _DIGITS.fullmatch(value):
            return int(value)
        # lazy: typer's converters pull in pydantic; only odd values need them
        from typer._coercion import build_runtime_param

        return build_runtime_param(self._param.type_descriptor).coerce(value, param, ctx)


def _is_plain(param: click.Parameter) -> bool:
    descriptor = getattr(param, "type_descriptor", None)
    info = getattr(descriptor, "parameter_info", None)
    return (
        descriptor is not None
        and descriptor.annotation in _PLAIN
        and not param.multiple
        and param.nargs == 1
        and getattr(info, "parser", None) is None
        and getattr(info, "min", None) is None
        and getattr(info, "max", None) is None
        # typer's lazy slot, still empty: nothing has been converted yet
        and getattr(param, "_runtime_param", "absent") is None
    )


def plain_coercion(params: list[click.Parameter]) -> list[click.Parameter]:
    """Give each plain parameter of ``params`` the pydantic-free converter; returns ``params``."""
    for param in params:
        if _is_plain(param):
            param._runtime_param = _PlainCoercion(param)  # type: ignore[attr-defined]
    return params
