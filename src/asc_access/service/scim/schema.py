"""The SCIM resources the bridge serves, built from scim2-models.

``User`` carries the enterprise extension (kept as sent) and Apple's access in
``urn:ietf:params:scim:schemas:extension:appstoreconnect:2.0:User``. The
policy keeps attributes no schema declares (they are stored and returned) and
reads PATCH the way Microsoft Entra ID sends it (capitalised ops, a ``remove``
whose value selects, a path filter that matches nothing adds the entry).
"""

from __future__ import annotations

from typing import Annotated, Any, Union

from scim2_models import (
    URN,
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    EnterpriseUser,
    ETag,
    Extension,
    External,
    Filter,
    Group,
    Mutability,
    Patch,
    Reference,
    Required,
    ResourceType,
    ScimPolicy,
    ScimProvider,
    ServiceProviderConfig,
    Sort,
    Uniqueness,
    User,
)
from scim2_models.resources.resource import AnyExtension

__all__ = [
    "ASC_SCHEMA",
    "MAX_RESULTS",
    "AppStoreConnectUser",
    "AscUser",
    "BridgeUser",
    "build_provider",
]

ASC_SCHEMA = "urn:ietf:params:scim:schemas:extension:appstoreconnect:2.0:User"
#: The largest page a search returns.
MAX_RESULTS = 200


class AppStoreConnectUser(Extension):
    """A person's access on the App Store Connect team."""

    __schema__ = URN(ASC_SCHEMA)

    roles: list[str] | None = None
    """Apple's role names (``ADMIN``, ``DEVELOPER``, ``APP_MANAGER``...)."""

    all_apps_visible: bool | None = None
    """Whether they see every app (always true for Admin, Finance, Access to Reports)."""

    visible_apps: list[str] | None = None
    """Bundle ids of the apps they see when not every app."""

    provisioning_allowed: bool | None = None
    """Whether they may manage certificates, identifiers and profiles."""


class AscUser(User[AnyExtension]):
    """The core User, whose ``userName`` (the e-mail Apple knows them by) cannot change."""

    __schema__ = URN("urn:ietf:params:scim:schemas:core:2.0:User")

    user_name: Annotated[str | None, Uniqueness.server, Required.true, Mutability.immutable] = None
    """The person's e-mail address: set when they are created, never changed."""


BridgeUser: Any = AscUser[Union[EnterpriseUser, AppStoreConnectUser]]  # noqa: UP007

_BEARER = AuthenticationScheme(
    type=AuthenticationScheme.Type.oauthbearertoken,
    name="OAuth Bearer Token",
    description="A SCIM token from `asc-access tokens create NAME --scim CONNECTION`.",
    spec_uri=Reference[External]("https://datatracker.ietf.org/doc/html/rfc6750"),
    primary=True,
)


def build_provider() -> ScimProvider:
    """The description of the bridge: its resources, capabilities and tolerances."""
    config = ServiceProviderConfig(
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=True),
        etag=ETag(supported=False),
        authentication_schemes=[_BEARER],
    )
    policy = ScimPolicy(
        unknown=ScimPolicy.Unknown.keep,
        remove_value_as_filter=ScimPolicy.RemoveValue.apply,
        unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
    )
    return ScimProvider(
        models=[AscUser, EnterpriseUser, AppStoreConnectUser, Group],
        resource_types=[
            ResourceType.from_resource(BridgeUser),
            ResourceType.from_resource(Group),
        ],
        config=config,
        policy=policy,
    )
