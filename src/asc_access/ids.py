"""Nominal identifier types. Plain strings at run time; distinct for the type checker."""

from typing import NewType

__all__ = ["AppId", "ConnectionName", "InvitationId", "IssuerId", "KeyId", "UserId"]

KeyId = NewType("KeyId", str)
IssuerId = NewType("IssuerId", str)
UserId = NewType("UserId", str)
InvitationId = NewType("InvitationId", str)
AppId = NewType("AppId", str)
ConnectionName = NewType("ConnectionName", str)
