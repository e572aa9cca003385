"""A local App Store Connect API that behaves like Apple's, for tests and rehearsals.

This package imports nothing from the rest of ``asc_access``; the product imports
it only inside the CLI commands that start it.

Choices where Apple's behaviour is not publicly documented (asc-api-notes.md §3.3, §8):

- duplicate member / pending invitation → 409 ``ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE``
  with ``source.pointer`` ``/data/attributes/email``;
- limiting the apps of someone who always sees all apps → 409
  ``ENTITY_ERROR.ATTRIBUTE.INVALID`` at ``/data/attributes/allAppsVisible``;
- changing the Account Holder → 409 ``ENTITY_ERROR.ATTRIBUTE.INVALID.UNMODIFIABLE``;
  removing the Account Holder → 409 ``STATE_ERROR.ENTITY_STATE_INVALID``;
- a revoked key → the same 401 ``NOT_AUTHORIZED`` as every other bad token;
- users and invitations need an Admin (or Account Holder) key; apps any key.
"""

from __future__ import annotations

from asc_access.sandbox.app import SandboxApp, create_app
from asc_access.sandbox.records import Clock
from asc_access.sandbox.state import KEY_NAMES, Sandbox, SandboxOptions

__all__ = ["KEY_NAMES", "Clock", "Sandbox", "SandboxApp", "SandboxOptions", "create_app"]
