"""One page of records and how many match in all: the paging envelope every list shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

__all__ = ["Page"]


class _Shown(Protocol):
    def as_dict(self) -> dict[str, Any]: ...


T = TypeVar("T", bound=_Shown)


@dataclass(frozen=True)
class Page(Generic[T]):
    """Records of one page and how many match in all (``limit=None``: everything)."""

    items: list[T]
    total: int
    limit: int | None
    offset: int

    def as_dict(self) -> dict[str, Any]:
        """The API's paging envelope."""
        next_offset = self.offset + len(self.items)
        return {
            "items": [item.as_dict() for item in self.items],
            "total": self.total,
            "limit": self.limit,
            "offset": self.offset,
            "next_offset": next_offset if next_offset < self.total else None,
        }
