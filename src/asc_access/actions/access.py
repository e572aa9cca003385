"""What a person can do on a team, as one normalised value."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from asc_access.ids import AppId
from asc_access.models import Person, can_restrict_apps

__all__ = ["Access", "app_names"]


def _sorted(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(values)))


def app_names(app_ids: Iterable[str], labels: Mapping[str, str] | None) -> str:
    """App ids joined for people, each replaced by its label (bundle id) when known."""
    return ", ".join((labels or {}).get(a, a) for a in app_ids)


@dataclass(frozen=True, slots=True)
class Access:
    """What a person can do on a team: roles, app visibility, provisioning.

    Always normalised: roles sorted and de-duplicated; someone whose roles see
    every app (:data:`asc_access.models.ALWAYS_ALL_APPS_ROLES`) has
    ``all_apps_visible`` true; ``app_ids`` is empty whenever all apps are visible.
    Two equal values therefore mean the same access on Apple.
    """

    roles: tuple[str, ...]
    all_apps_visible: bool
    provisioning_allowed: bool = False
    app_ids: tuple[AppId, ...] = ()

    @classmethod
    def of(
        cls,
        roles: Iterable[str],
        *,
        all_apps_visible: bool,
        provisioning_allowed: bool = False,
        app_ids: Iterable[str] = (),
    ) -> Access:
        """A normalised value (see the class docstring)."""
        role_tuple = _sorted(roles)
        all_apps = all_apps_visible or not can_restrict_apps(role_tuple)
        apps = () if all_apps else tuple(AppId(a) for a in _sorted(app_ids))
        return cls(role_tuple, all_apps, provisioning_allowed, apps)

    @classmethod
    def of_person(cls, person: Person) -> Access:
        """The access of a member, or granted by an invitation, whose visible-app list is
        complete (never a capped include)."""
        if person.visible_apps_capped:
            raise ValueError("visible-apps list is truncated; read the full list first")
        return cls.of(
            person.roles,
            all_apps_visible=person.all_apps_visible,
            provisioning_allowed=person.provisioning_allowed,
            app_ids=person.visible_app_ids or (),
        )

    #: A member's access (:meth:`of_person`).
    of_user = of_person
    #: The access an invitation grants (:meth:`of_person`).
    of_invitation = of_person

    def apps_text(self, labels: Mapping[str, str] | None = None) -> str:
        """``all apps``, ``no apps`` or ``apps com.example.a, com.example.b``."""
        if self.all_apps_visible:
            return "all apps"
        if not self.app_ids:
            return "no apps"
        return "apps " + app_names(self.app_ids, labels)

    def brief(self) -> str:
        """Roles, how many apps, provisioning: ``DEVELOPER; 2 apps; provisioning``."""
        roles = ",".join(self.roles) or "(no roles)"
        if self.all_apps_visible:
            apps = "all apps"
        else:
            apps = f"{len(self.app_ids)} app{'' if len(self.app_ids) == 1 else 's'}"
        prov = "; provisioning" if self.provisioning_allowed else ""
        return f"{roles}; {apps}{prov}"

    def describe(self, labels: Mapping[str, str] | None = None) -> str:
        """One short line: ``DEVELOPER; apps com.example.a; provisioning``.

        ``labels`` maps app ids to something readable (bundle ids).
        """
        roles = ",".join(self.roles) or "(no roles)"
        prov = "; provisioning" if self.provisioning_allowed else ""
        return f"{roles}; {self.apps_text(labels)}{prov}"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "roles": list(self.roles),
            "all_apps_visible": self.all_apps_visible,
            "provisioning_allowed": self.provisioning_allowed,
            "app_ids": list(self.app_ids),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Access:
        """Inverse of :meth:`as_dict`."""
        return cls.of(
            data.get("roles", ()),
            all_apps_visible=bool(data.get("all_apps_visible", False)),
            provisioning_allowed=bool(data.get("provisioning_allowed", False)),
            app_ids=data.get("app_ids", ()),
        )
