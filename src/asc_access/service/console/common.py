"""Small helpers shared by the console pages: paging, form parsing, the redirect after a post."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

__all__ = [
    "PageInfo",
    "echo_text",
    "form_list",
    "form_text",
    "looks_like_key",
    "see_other",
    "split_list",
]


@dataclass(frozen=True)
class PageInfo:
    """Where a page of ``count`` items starting at ``offset`` sits in ``total``."""

    offset: int
    limit: int
    count: int
    total: int | None

    @property
    def first(self) -> int:
        """1-based number of the first item shown."""
        return self.offset + 1 if self.count else 0

    @property
    def last(self) -> int:
        """1-based number of the last item shown."""
        return self.offset + self.count

    @property
    def prev_offset(self) -> int | None:
        """Offset of the previous page, if there is one."""
        return max(0, self.offset - self.limit) if self.offset > 0 else None

    @property
    def next_offset(self) -> int | None:
        """Offset of the next page, if there is one."""
        more = self.total is not None and self.offset + self.count < self.total
        return self.offset + self.limit if more else None


def form_text(form: FormData, key: str, *, max_length: int = 2000) -> str:
    """A text field, stripped ('' when absent or a file)."""
    value = form.get(key)
    return value.strip()[:max_length] if isinstance(value, str) else ""


#: A run of base64 longer than any id, name or address in a form: key material.
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/=]{40,}")


def looks_like_key(text: str) -> bool:
    """Whether ``text`` may hold a private key (PEM markers, or a long base64 body)."""
    squeezed = re.sub(r"\s+", "", text)
    return (
        "PRIVATE KEY" in text.upper() or "-----BEGIN" in text or bool(_BASE64_RUN.search(squeezed))
    )


def echo_text(form: FormData, key: str, *, max_length: int = 2000) -> str:
    """A field's text to put back into the re-shown form: never key material.

    A ``.p8``'s content pasted into the wrong field would otherwise be sent back
    in an input's ``value`` (and kept by the browser's form history).
    """
    value = form_text(form, key, max_length=max_length)
    return "" if looks_like_key(value) else value


def form_list(form: FormData, key: str) -> list[str]:
    """Every non-empty value of a repeated field (checkboxes, multi-selects)."""
    return [v.strip() for v in form.getlist(key) if isinstance(v, str) and v.strip()]


def split_list(text: str) -> list[str]:
    """Values separated by commas, spaces or new lines."""
    return [part for part in re.split(r"[\s,;]+", text) if part]


def see_other(url: str) -> RedirectResponse:
    """The answer to a form post: the browser GETs ``url`` (303), so a reload posts nothing."""
    return RedirectResponse(url, status_code=303)
