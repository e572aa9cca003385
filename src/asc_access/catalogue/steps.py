"""Resolution steps several catalogue entries share, in App Store Connect's own menu names."""

from __future__ import annotations

__all__ = ["AGAIN", "INDIVIDUAL", "KEYS_PAGE", "NEW_ADMIN_KEY", "REVOKE_OLD", "ROTATE", "TEAM_KEYS"]

KEYS_PAGE = "**Users and Access → Integrations → App Store Connect API**"
TEAM_KEYS = f"{KEYS_PAGE}, tab **Team Keys**"
INDIVIDUAL = "your name (top right of any page) → **Edit Profile** → **Individual API Key**"
NEW_ADMIN_KEY = (
    f"Generate a replacement key: {TEAM_KEYS} → **Generate API Key** (or **+**), give it a "
    "name and the **Admin** access role. Download the `.p8` at once: App Store Connect "
    "offers the download only once."
)
ROTATE = (
    "Give asc-access the new key: `asc-access connections rotate-key {name} --key-id "
    "<NEW_KEY_ID> --issuer-id {issuer_id} --private-key-file AuthKey_<NEW_KEY_ID>.p8` "
    "(or `asc-access connect` for a new connection)."
)
REVOKE_OLD = (
    "Once nothing uses the old key {key_id} any more, click **Revoke** next to it in the "
    "same list (revocation is immediate and permanent)."
)
AGAIN = "Run `asc-access doctor` again to confirm."
