"""Options several commands share, declared once and handed to each command as one value.

An :class:`OptionGroup` (made by :func:`option_group`) wraps a function whose
parameters are the shared options (``typer.Option`` defaults, as on a command)
and which packs their values into one. It is a parameter's default, like
``typer.Option`` (``key: KeyOptions = KEY_OPTIONS``); :func:`grouped`, on the
command function, puts the group's options in that parameter's place, so
``--help`` lists them exactly as if they were written out there, and when the
command runs passes it what the group's function made of their values. Typer
reads parameters through ``inspect.signature``, which honours ``__signature__``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

__all__ = ["OptionGroup", "grouped", "option_group"]


class OptionGroup:
    """Shared options: the parameters of ``pack``, which turns their values into one."""

    def __init__(self, pack: Callable[..., Any]) -> None:
        self.pack = pack
        self.options = list(inspect.signature(pack, eval_str=True).parameters.values())


def option_group(pack: Callable[..., Any]) -> Any:
    """The group of ``pack``, typed ``Any`` to stand as a default (as ``typer.Option`` is)."""
    return OptionGroup(pack)


def grouped(command: Callable[..., Any]) -> Callable[..., Any]:
    """``command`` with each :class:`OptionGroup` parameter spread into its options."""
    signature = inspect.signature(command, eval_str=True)
    groups: dict[str, OptionGroup] = {}
    params: list[inspect.Parameter] = []
    for param in signature.parameters.values():
        if isinstance(param.default, OptionGroup):
            groups[param.name] = param.default
            params += (option.replace(kind=param.kind) for option in param.default.options)
        else:
            params.append(param)

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        for slot, group in groups.items():
            kwargs[slot] = group.pack(**{o.name: kwargs.pop(o.name) for o in group.options})
        return command(*args, **kwargs)

    run.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in params}
    run.__annotations__["return"] = signature.return_annotation
    return run
