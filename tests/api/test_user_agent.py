"""Every request names the product and its installed version (one version, never two)."""

from __future__ import annotations

from importlib import metadata
from typing import Any

import asc_access


def test_the_package_version_is_the_installed_version() -> None:
    assert asc_access.__version__ == metadata.version("asc-access")  # pyproject.toml's


async def test_requests_carry_the_version_without_reading_package_metadata(
    make_client: Any, h: Any
) -> None:
    script = h.Script(h.ok(h.collection([])))
    await make_client(script).apps.list()
    assert script.requests[0].headers["user-agent"] == f"asc-access/{asc_access.__version__}"
