"""The Makefile's one-time install says what it is doing instead of a silent minute."""

from __future__ import annotations

import re
from pathlib import Path

MAKEFILE = Path(__file__).resolve().parents[1] / "Makefile"


def _install_recipe() -> list[str]:
    text = MAKEFILE.read_text()
    found = re.search(r"^\$\(STAMP\):.*\n((?:\t.*\n)+)", text, flags=re.MULTILINE)
    assert found is not None
    return [line.strip() for line in found.group(1).splitlines()]


def test_the_big_install_shows_progress_and_is_announced() -> None:
    recipe = _install_recipe()
    big = next(i for i, line in enumerate(recipe) if "pip install" in line and " -e " in line)
    assert "--quiet" not in recipe[big]
    assert "-q " not in recipe[big]
    assert any(line.startswith("@echo") for line in recipe[:big]), recipe


def test_the_install_says_how_to_run_asc_access() -> None:
    recipe = _install_recipe()
    assert any("bin/activate" in line and line.startswith("@echo") for line in recipe)
