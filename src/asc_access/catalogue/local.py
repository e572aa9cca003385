"""Wording for failures outside the catalogue: no code, no cause, but still explained."""

from __future__ import annotations

from typing import Final

from asc_access.catalogue.model import Wording

__all__ = ["CONFLICT_STEP", "UNCATALOGUED"]

UNCATALOGUED: Final[dict[str, Wording]] = {
    "secret_store": Wording(
        "The stored private key cannot be decrypted",
        (
            (
                "Use the master key the connection was saved with: set ASC_ACCESS_MASTER_KEY "
                "to it, or restore the master.key file in ASC_ACCESS_HOME."
            ),
            (
                "If it is lost, connect again: `asc-access connections remove <NAME>` then "
                "`asc-access connect <NAME> ...` with the key's .p8."
            ),
        ),
    ),
    "unknown_name": Wording(
        "Unknown name", ("List the saved connections with `asc-access connections`.",)
    ),
    "usage": Wording("The command is incomplete or malformed"),
    "request_rejected": Wording("Apple refused the request"),
}

#: The step for a 409 Apple reported: the mirror is behind Apple's state.
CONFLICT_STEP: Final = (
    "Read the current state (`asc-access sync`), then retry the change if it is still needed."
)
