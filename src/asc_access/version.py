"""The package's version, at the bottom of the layers: the API client's User-Agent names it.

``pyproject.toml`` holds the same string (``tests/api/test_user_agent.py`` checks the
installed metadata agrees); reading that metadata at run time cost the doctor ~25 ms.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
