"""The sync package's public surface is what ``__all__`` says, and the client fits its protocol."""

from __future__ import annotations

import inspect

import asc_access.sync as sync


def test_all_lists_exactly_the_public_names() -> None:
    public = {
        name
        for name, value in vars(sync).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    }
    public -= {"annotations"}
    assert sorted(sync.__all__) == sorted(public)


def test_the_api_resources_take_every_argument_the_protocol_passes() -> None:
    """mypy checks this statically (cli/sync_run.py); this says it at run time too."""
    from asc_access.api import (
        AppsResource,
        AppStoreConnectClient,
        InvitationsResource,
        UsersResource,
    )
    from asc_access.sync import AppPages, InvitationPages, UserPages

    pairs = [(UserPages, UsersResource), (InvitationPages, InvitationsResource)]
    pairs.append((AppPages, AppsResource))
    for protocol, resource in pairs:
        for name, member in vars(protocol).items():
            if name.startswith("_") or not callable(member):
                continue
            wanted = set(inspect.signature(member).parameters) - {"self"}
            offered = set(inspect.signature(getattr(resource, name)).parameters)
            assert wanted <= offered, (resource.__name__, name, wanted - offered)
    for name in ("request_count", "rate_limit"):
        assert isinstance(getattr(AppStoreConnectClient, name), property)
