"""The SCIM 2.0 endpoint (``/scim/v2``): scim2-server's ASGI application over the bridge.

Only SCIM tokens (``asc-access tokens create NAME --scim CONNECTION``) open
it, each for its own connection; their writes are audited as ``token:<name>``.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from scim2_models import (
    Context,
    Resource,
    ResponseParameters,
    SCIMException,
    UnauthorizedException,
)
from scim2_server.applications.asgi import ASGIApplication
from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse
from scim2_server.service import ScimService

from asc_access.errors import NotFoundLocallyError
from asc_access.metrics import record_scim_operation
from asc_access.service.context import ServiceContext
from asc_access.service.scim.errors import RetryLater, scim_error
from asc_access.service.scim.schema import build_provider
from asc_access.service.scim.storage import SCOPE, BridgeStorage, Scope
from asc_access.store.connections import get_connection_by_id
from asc_access.store.queries import synced_at
from asc_access.store.tokens import TokenRecord, verify_token

__all__ = ["BridgeApplication", "create_scim_app"]

#: scim2-server's operations, as ``asc_access_scim_operations_total`` names them.
_OPERATIONS = {
    "create": "create",
    "replace": "replace",
    "patch": "patch",
    "delete": "delete",
    "query": "get",
    "search": "list",
}
#: The role an invitation gets when the IdP sends none (``ASC_ACCESS_SCIM_DEFAULT_ROLE``).
DEFAULT_ROLE = "DEVELOPER"


class BridgeService(ScimService):
    """scim2-server's protocol core; a PATCH answers ``200`` with the User, as Okta expects."""

    def patch_response(
        self,
        base_url: str,
        resource: Resource[Any],
        response_parameters: ResponseParameters[Any],
    ) -> ScimResponse:
        """The patched resource (RFC 7644 §3.5.2 allows 200 with a body or 204)."""
        published = self.publish(base_url, resource)
        return self.resource_response(
            published, Context.RESOURCE_REPLACEMENT_RESPONSE, response_parameters
        )


class BridgeApplication(ASGIApplication):
    """scim2-server's ASGI app, authenticated by our SCIM tokens."""

    def __init__(self, ctx: ServiceContext, storage: BridgeStorage) -> None:
        provider = build_provider()
        super().__init__(storage, provider, BridgeService(provider, secret=os.urandom(32)))
        self.ctx = ctx

    @staticmethod
    def get_base_url(scope: dict[str, Any]) -> str:
        """The SCIM root as the client sees it: where the service mounts us (``/scim/v2``)."""
        headers = dict(scope["headers"])
        host = headers.get(b"host", b"").decode()
        if not host and scope.get("server"):
            host = "{}:{}".format(*scope["server"])
        return f"{scope['scheme']}://{host}{scope.get('root_path', '')}"

    def _token(self, request: ScimRequest) -> TokenRecord:
        scheme, _, token = (request.header("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise UnauthorizedException(detail="send 'Authorization: Bearer <SCIM token>'")
        record = verify_token(self.ctx.engine, token.strip(), clock=self.ctx.clock, scim=True)
        if record is None or record.scim_connection_id is None:
            raise UnauthorizedException(
                detail="not a valid SCIM token: create one with "
                "'asc-access tokens create NAME --scim CONNECTION'"
            )
        return record

    async def serve(self, request: ScimRequest) -> ScimResponse:
        """Serve a request; count Users/Groups operations for ``/metrics``."""
        response = await super().serve(request)
        try:
            operation = _OPERATIONS.get(self.service.match(request).operation.value)
        except SCIMException:
            operation = None
        if operation is not None:
            record_scim_operation(operation, "ok" if int(response.status) < 400 else "error")
        return response

    def check_auth(self, request: ScimRequest) -> None:
        """Refuse anything but an active SCIM token."""
        self._token(request)

    def get_subject(self, request: ScimRequest) -> TokenRecord | None:
        """The SCIM token (``None`` on the unauthenticated ServiceProviderConfig)."""
        if not self.needs_auth(request):
            return None
        return self._token(request)

    async def dispatch_request(self, request: ScimRequest) -> ScimResponse:
        """Serve one request for the token's connection."""
        if self.needs_auth(request):
            self.check_auth(request)
        subject = self.get_subject(request)
        request.subject = subject
        if subject is None or subject.scim_connection_id is None:
            return await self.handler.handle(request)
        try:
            connection = get_connection_by_id(self.ctx.engine, subject.scim_connection_id)
        except NotFoundLocallyError:
            raise UnauthorizedException(detail="this SCIM token's connection was removed") from None
        if request.path.strip("/").split("/")[0] in {"Users", "Groups"}:
            self._ensure_synced(connection.id, connection.name)
        marker = SCOPE.set(Scope(connection.id, connection.name, subject.actor))
        try:
            return await self.handler.handle(request)
        finally:
            SCOPE.reset(marker)

    def _ensure_synced(self, connection_id: int, name: str) -> None:
        """Users come from the mirror: before the team's first sync, start one and say 503."""
        with self.ctx.engine.connect() as conn:
            if synced_at(conn, [connection_id]).get(connection_id) is not None:
                return
        self.ctx.syncs.start(name, f"scim:{uuid.uuid4().hex}")
        raise RetryLater(
            503,
            f"team {name} is being read from App Store Connect for the first time; "
            "try again in a moment",
            10,
        )

    def handle_exception(self, request: ScimRequest, exception: Exception) -> ScimResponse:
        """SCIM errors for ours too; ``Retry-After`` on 429 and 503."""
        mapped = scim_error(exception) or exception
        response = super().handle_exception(request, mapped)
        if isinstance(mapped, RetryLater):
            response.headers["Retry-After"] = str(mapped.retry_after)
        return response


def create_scim_app(ctx: ServiceContext, *, default_role: str | None = None) -> BridgeApplication:
    """The SCIM endpoint for the service (mount it at ``/scim/v2``)."""
    role = default_role or os.environ.get("ASC_ACCESS_SCIM_DEFAULT_ROLE") or DEFAULT_ROLE
    return BridgeApplication(ctx, BridgeStorage(ctx, default_role=role.strip().upper()))
