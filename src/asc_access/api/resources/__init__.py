"""Resource managers: ``client.users``, ``client.invitations``, ``client.apps``."""

from asc_access.api.resources.apps import AppsResource
from asc_access.api.resources.invitations import InvitationsResource
from asc_access.api.resources.users import UsersResource

__all__ = ["AppsResource", "InvitationsResource", "UsersResource"]
