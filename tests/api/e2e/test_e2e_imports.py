"""A request in steady state never asks the import system for anything.

httpcore asks ``import sniffio`` several times a request (to learn which async
library runs it). Without sniffio installed each ask is a failed import that
searches every ``sys.path`` entry, about 0.1 ms each: half a millisecond a
request, a tenth of the client's CPU in a 10,000-member sync. sniffio is a
dependency for that reason; this test catches any lazy or failing import on the
request path, whatever its source.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any


class _Recorder:
    """A meta-path finder that finds nothing and notes every name it was asked for."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        self.asked.append(name)
        return None


@contextmanager
def _imports_asked() -> Iterator[list[str]]:
    recorder = _Recorder()
    sys.meta_path.insert(0, recorder)  # type: ignore[arg-type]
    try:
        yield recorder.asked
    finally:
        sys.meta_path.remove(recorder)  # type: ignore[arg-type]


async def test_paging_through_members_imports_nothing(sandbox: Any, connect: Any) -> None:
    client = connect(sandbox)
    warm = [p async for p in client.users.pages(limit=5, include_visible_apps=True)]
    assert len(warm) == 3  # the first read may import what it needs, once
    with _imports_asked() as asked:
        for _ in range(3):
            pages = [p async for p in client.users.pages(limit=5, include_visible_apps=True)]
            assert len(pages) == 3
        apps = [p async for p in client.apps.pages()]
        assert apps
    assert asked == []
