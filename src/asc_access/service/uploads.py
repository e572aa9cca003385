"""Reading a connection's credentials from a request: multipart with a ``.p8`` file, or JSON.

Both shapes carry ``name``, ``key_id``, ``issuer_id``, ``individual``,
``api_url`` (default: the service's), ``force`` and the private key: a
``private_key`` file in multipart, a ``private_key`` PEM string in JSON. The
key is size-checked before it is read in full, kept in memory only, and handed
to the credential checks (:func:`asc_access.credentials.evaluate`) with a
source that names where it came from, so every finding says "the uploaded file
AuthKey_X.p8" rather than a path on the server.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from pydantic import BaseModel, Field, ValidationError
from starlette.datastructures import UploadFile

from asc_access.credentials import Evaluation, KeyInput, RawCredentials, Sourced, evaluate
from asc_access.ids import name_problem, shown_name
from asc_access.service.errors import ServiceError

__all__ = ["ConnectionInput", "KeyUpload", "read_key_upload"]

_TRUE = {"1", "true", "on", "yes"}


class ConnectionInput(BaseModel):
    """A connection's credentials as JSON (the private key as PEM text)."""

    name: str = Field(default="", max_length=200, examples=["northwind"])
    key_id: str = Field(default="", max_length=200, examples=["2X9R4HXF34"])
    issuer_id: str | None = Field(default=None, max_length=200)
    individual: bool = False
    api_url: str | None = Field(default=None, max_length=500)
    private_key: str = Field(default="", description="The .p8 file's content (PEM)")
    force: bool = Field(default=False, description="Save even if the doctor finds a problem")
    move: bool = Field(
        default=False,
        description="Key rotation only: allow the new key to be of another team or API URL",
    )


@dataclass
class KeyUpload:
    """What the request carried (the key in memory only)."""

    name: str
    key_id: str
    issuer_id: str | None
    individual: bool
    api_url: str | None
    force: bool
    key_source: str
    pem: bytes = field(repr=False)
    move: bool = False

    def evaluation(self) -> Evaluation:
        """Run every offline check on the uploaded credentials."""
        raw = RawCredentials(
            key_id=Sourced(self.key_id, "field key_id") if self.key_id else None,
            issuer_id=Sourced(self.issuer_id, "field issuer_id") if self.issuer_id else None,
            private_key=KeyInput(source=self.key_source, content=self.pem) if self.pem else None,
            individual_source="field individual" if self.individual else None,
        )
        return evaluate(raw)


def _too_large(size: int, limit: int) -> ServiceError:
    return ServiceError(
        413,
        f"The private key is {size} bytes or more; the limit is {limit} bytes "
        "(an App Store Connect .p8 key is about 250 bytes).",
        cause="key_too_large",
        title="The uploaded private key is too large",
        resolution=[
            (
                "Upload the AuthKey_<KEY_ID>.p8 file exactly as downloaded from "
                "Users and Access → Integrations → App Store Connect API."
            ),
        ],
    )


def _invalid(message: str) -> ServiceError:
    return ServiceError(
        422,
        message,
        cause="invalid_request",
        title="The connection form is incomplete",
        resolution=["Fill in the fields named and send the form again."],
    )


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


async def _from_multipart(request: Request, limit: int) -> KeyUpload:
    form = await request.form(max_files=1, max_fields=20, max_part_size=64 * 1024)
    upload = form.get("private_key")
    pem = b""
    source = "the uploaded private key"
    if isinstance(upload, UploadFile):
        pem = await upload.read(limit + 1)
        if len(pem) > limit:
            raise _too_large(len(pem), limit)
        if upload.filename:
            source = f"the uploaded file {upload.filename[:200]}"
    elif isinstance(upload, str) and upload.strip():
        pem = upload.encode("utf-8")[: limit + 1]
        if len(pem) > limit:
            raise _too_large(len(pem), limit)
        source = "field private_key"
    return KeyUpload(
        name=_text(form.get("name")),
        key_id=_text(form.get("key_id")),
        issuer_id=_text(form.get("issuer_id")) or None,
        individual=_text(form.get("individual")).lower() in _TRUE,
        api_url=_text(form.get("api_url")) or None,
        force=_text(form.get("force")).lower() in _TRUE,
        key_source=source,
        pem=pem,
        move=_text(form.get("move")).lower() in _TRUE,
    )


async def _from_json(request: Request, limit: int) -> KeyUpload:
    raw = await request.body()
    try:
        data = json.loads(raw)
    except ValueError:
        raise ServiceError(
            400,
            "The request body could not be parsed as JSON.",
            cause="invalid_json",
            title="The request body is not valid JSON",
            resolution=["Send a JSON object with Content-Type: application/json."],
        ) from None
    try:
        body = ConnectionInput.model_validate(data)
    except ValidationError as error:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) or "body" for e in error.errors())
        raise _invalid(f"Invalid fields: {fields}.") from None
    pem = body.private_key.encode("utf-8")
    if len(pem) > limit:
        raise _too_large(len(pem), limit)
    return KeyUpload(
        name=body.name.strip(),
        key_id=body.key_id.strip(),
        issuer_id=(body.issuer_id or "").strip() or None,
        individual=body.individual,
        api_url=(body.api_url or "").strip() or None,
        force=body.force,
        key_source="field private_key",
        pem=pem,
        move=body.move,
    )


async def read_key_upload(request: Request, *, limit: int, need_name: bool) -> KeyUpload:
    """The credentials in ``request``; 4xx :class:`ServiceError` for anything unusable."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in {"multipart/form-data", "application/x-www-form-urlencoded"}:
        upload = await _from_multipart(request, limit)
    elif kind == "application/json" or kind.endswith("+json"):
        upload = await _from_json(request, limit)
    else:
        raise ServiceError(
            415,
            f"Send multipart/form-data or application/json, not {kind or 'no content type'}.",
            cause="unsupported_media_type",
            title="Unsupported request body",
            resolution=["Upload the .p8 as multipart/form-data, or send JSON with the PEM."],
        )
    missing = [
        label
        for label, value in (
            ("name", upload.name if need_name else "x"),
            ("key_id", upload.key_id),
            ("private_key", upload.pem),
        )
        if not value
    ]
    if missing:
        raise _invalid(f"Missing: {', '.join(missing)}.")
    if need_name and (problem := name_problem(upload.name)) is not None:
        raise ServiceError(
            422,
            f"The name {shown_name(upload.name)} cannot name a connection: {problem}.",
            cause="invalid_name",
            title="That connection name is not allowed",
            resolution=[f"Pick a name that follows the rule: {problem}."],
        )
    if upload.api_url is not None and not upload.api_url.startswith(("https://", "http://")):
        raise _invalid("api_url must start with https:// (or http:// for a local sandbox).")
    return upload
