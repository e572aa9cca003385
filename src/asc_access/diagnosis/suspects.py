"""Ranking the suspects behind an opaque 401 when no local evidence proves a cause.

Apple's 401 is identical for every reason, so the doctor cannot be certain; it
can only order the reasons by what it does know:

- a key that worked before was most likely revoked;
- a key read from ``AuthKey_<KEYID>.p8`` (named for this very key) is probably
  the right ``.p8``, so the Issuer ID and revocation come first; a key given
  inline (env var, CI secret) or from a freely named file may be another key's,
  or one for another Apple service (push notifications look identical);
- without an Issuer ID the team shape could not be tried, so "this is a team
  key" leads.
"""

from __future__ import annotations

import re

from asc_access.credentials import Credentials

__all__ = ["rank_suspects"]

_FILENAME = re.compile(r"^(?:AuthKey|ApiKey)_([A-Za-z0-9]+)\.p8$")


def rank_suspects(creds: Credentials, *, shape_tried: bool, worked_before: bool) -> tuple[str, ...]:
    """The possible reasons for a 401 with clean local checks, most likely first."""
    kid = creds.key_id
    revoked = f"key {kid} was revoked in App Store Connect (revocation is permanent)"
    issuer = (
        f"the Issuer ID {creds.issuer_id} is not the team of key {kid} (another team or account)"
        if creds.issuer_id
        else None
    )
    wrong_p8 = (
        f"the private key is not key {kid}'s: another key's .p8, or a .p8 for another Apple "
        "service (push notifications, Sign in with Apple)"
    )
    no_access = "the team has no API access yet (the Account Holder must click Request Access)"
    incident = "a passing problem at Apple (try again in a few minutes)"
    team_without_issuer = (
        "this is a team key used without its Issuer ID (pass --issuer-id)"
        if not shape_tried and creds.key_type == "individual"
        else None
    )
    named_for_key = bool(
        creds.key_file is not None
        and (match := _FILENAME.match(creds.key_file.name))
        and match.group(1) == kid
    )
    order: list[str | None]
    if worked_before:
        order = [revoked, issuer, incident, wrong_p8]
    elif named_for_key:
        order = [team_without_issuer, issuer, revoked, no_access, wrong_p8, incident]
    else:
        order = [team_without_issuer, wrong_p8, issuer, revoked, no_access, incident]
    return tuple(s for s in order if s)
