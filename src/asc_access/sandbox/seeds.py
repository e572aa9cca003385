"""Seeds: the demo team (identical on every start) and generated teams of any size."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from asc_access.sandbox.records import AppRecord, InvitationRecord, UserRecord, person_fields
from asc_access.sandbox.vocabulary import can_restrict_apps
from asc_access.sandbox.world import World

__all__ = ["DEMO_DOMAIN", "SeedSpec", "apply_seed", "key_users"]

DEMO_DOMAIN = "northwindlabs.example.com"
_NAMESPACE = uuid.UUID("6b1c6a8e-3c0f-4b8e-9a57-1f0a7d2c5e11")


@dataclass(frozen=True, slots=True)
class SeedSpec:
    """What to seed: ``demo`` or a generated team."""

    seed: str = "demo"
    users: int = 0
    apps: int = 0
    invitations: int = 0
    random_seed: int = 0

    @property
    def generated(self) -> bool:
        """Whether this is a generated team rather than the demo."""
        return self.seed != "demo"


def _demo_user_id(email: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"demo-user:{email}"))


def _demo_app_id(bundle_id: str) -> str:
    return str(1_400_000_000 + uuid.uuid5(_NAMESPACE, f"demo-app:{bundle_id}").int % 600_000_000)


_DEMO_APPS = (
    ("Northwind Weather", "com.northwindlabs.weather", "NW-WEATHER"),
    ("Pocket Ledger", "com.northwindlabs.ledger", "NW-LEDGER"),
    ("Trailmix Hiking", "com.northwindlabs.trailmix", "NW-TRAILMIX"),
    ("Lumen Reader", "com.northwindlabs.lumen", "NW-LUMEN"),
    ("Tidepool", "com.northwindlabs.tidepool", "NW-TIDEPOOL"),
    ("Northwind Studio", "com.northwindlabs.studio", "NW-STUDIO"),
)

# (first, last, roles, visible app bundle suffixes or None for all apps, provisioning)
_DEMO_PEOPLE: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...] | None, bool], ...] = (
    ("Ava", "Thompson", ("ACCOUNT_HOLDER", "ADMIN"), None, True),
    ("Priya", "Raman", ("ADMIN",), None, True),
    ("Marcus", "Okafor", ("ADMIN",), None, False),
    ("Lena", "Fischer", ("FINANCE",), None, False),
    ("Diego", "Alvarez", ("APP_MANAGER",), None, True),
    ("Sofia", "Rossi", ("DEVELOPER",), ("weather", "trailmix"), True),
    ("Kenji", "Watanabe", ("DEVELOPER",), ("ledger",), False),
    ("Hannah", "Becker", ("DEVELOPER",), None, True),
    ("Omar", "Haddad", ("DEVELOPER", "CREATE_APPS"), ("lumen", "tidepool", "studio"), True),
    ("Chloe", "Martin", ("MARKETING",), ("lumen", "tidepool"), False),
    ("Noah", "Williams", ("CUSTOMER_SUPPORT",), ("weather",), False),
    ("Grace", "Kim", ("SALES", "ACCESS_TO_REPORTS"), None, False),
)

#: The demo invitations: one pending, one expired (days until it expires).
_DEMO_INVITATIONS: tuple[
    tuple[str, str, tuple[str, ...], tuple[str, ...] | None, bool, int], ...
] = (
    ("Ella", "Johansson", ("DEVELOPER",), ("tidepool",), True, 2),
    ("Lucas", "Moreau", ("MARKETING",), None, False, -2),
)

#: The demo users the named individual keys belong to.
DEMO_KEY_USERS = {"individual-admin": "priya.raman", "individual-developer": "sofia.rossi"}


def demo_email(first: str, last: str) -> str:
    """The demo address of a person."""
    return f"{first.lower()}.{last.lower()}@{DEMO_DOMAIN}"


def _seed_demo(world: World) -> None:
    by_suffix: dict[str, str] = {}
    for name, bundle_id, sku in _DEMO_APPS:
        app_id = _demo_app_id(bundle_id)
        world.add_app(AppRecord(id=app_id, name=name, bundle_id=bundle_id, sku=sku))
        by_suffix[bundle_id.rsplit(".", 1)[1]] = app_id

    def person(
        first: str,
        last: str,
        roles: tuple[str, ...],
        apps: tuple[str, ...] | None,
        provisioning: bool,
    ) -> dict[str, Any]:
        visible = None if apps is None else [by_suffix[s] for s in apps]
        return person_fields(first, last, roles, visible, provisioning)

    for first, last, roles, apps, provisioning in _DEMO_PEOPLE:
        email = demo_email(first, last)
        fields = person(first, last, roles, apps, provisioning)
        world.add_user(UserRecord(id=_demo_user_id(email), username=email, **fields))
    now = world.clock.now_datetime()
    for first, last, roles, apps, provisioning, days_left in _DEMO_INVITATIONS:
        email = demo_email(first, last)
        world.add_invitation(
            InvitationRecord(
                id=str(uuid.uuid5(_NAMESPACE, f"demo-invitation:{email}")),
                email=email,
                expiration=now + timedelta(days=days_left),
                **person(first, last, roles, apps, provisioning),
            )
        )


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_FIRST = _words(
    "Ada Ben Cara Dev Eli Fay Gus Hana Ivo Jade Kai Lia Milo Nia Oren Pia Quin Rosa Sami Tara "
    "Ugo Vera Wes Xena Yuri Zoe Amir Bea Cruz Dara Emil Fern Gil Iris Joss Kira Leon Maya Nils "
    "Opal Pavel Rhea Soren Tess Umar Vida Wren Yara Zane"
)
_LAST = _words(
    "Abbott Baker Chen Dubois Evans Fox Garcia Hughes Ito Jensen Kowalski Larsen Moreno Nakamura "
    "Ortiz Patel Quinn Ruiz Silva Tanaka Ueda Varga Walsh Xu Young Zimmer Adeyemi Brandt Costa "
    "Dahl Eriksen Ferreira Gupta Horvat Ivanova Jovanovic Keller Lindqvist Mendes Novak"
)
_APP_WORDS = _words(
    "Aurora Beacon Cascade Drift Ember Fable Glide Harbor Indigo Juniper Kestrel Lantern Meadow "
    "Nimbus Orbit Pebble Quartz Ripple Summit Tandem Umbra Vista Willow Zephyr"
)
_APP_KINDS = _words(
    "Notes Tracker Camera Maps Budget Fitness Radio Journal Puzzle Chef Weather Scanner Planner "
    "Studio Chat Reader"
)
_LOCALES = ("en-US", "en-US", "en-US", "en-GB", "de-DE", "fr-FR", "ja", "es-ES")

# (roles, weight). Restrictable roles get restricted access most of the time.
_ROLE_MIX: tuple[tuple[tuple[str, ...], int], ...] = (
    (("ADMIN",), 4),
    (("FINANCE",), 2),
    (("APP_MANAGER",), 6),
    (("DEVELOPER",), 55),
    (("DEVELOPER", "CREATE_APPS"), 6),
    (("MARKETING",), 10),
    (("CUSTOMER_SUPPORT",), 8),
    (("SALES",), 5),
    (("SALES", "ACCESS_TO_REPORTS"), 2),
    (("APP_MANAGER", "GENERATE_INDIVIDUAL_KEYS"), 2),
)


#: The roles of a generated person after the first three, each as often as its weight.
_ROLES_POOL = tuple(roles for roles, weight in _ROLE_MIX for _ in range(weight))


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class _Draw:
    """A generated team, drawn from one random stream in this order: apps, users, invitations."""

    def __init__(self, world: World, spec: SeedSpec) -> None:
        self.world = world
        self.spec = spec
        self.rng = random.Random(spec.random_seed)
        self.domain = f"team{spec.random_seed}.example.com"
        self.app_ids: list[str] = []

    def apps(self) -> None:
        """At least one app, with unique ids."""
        rng = self.rng
        used_ids: set[str] = set()
        for n in range(max(self.spec.apps, 1)):
            app_id = str(rng.randrange(1_000_000_000, 6_999_999_999))
            while app_id in used_ids:
                app_id = str(rng.randrange(1_000_000_000, 6_999_999_999))
            used_ids.add(app_id)
            word, kind = rng.choice(_APP_WORDS), rng.choice(_APP_KINDS)
            many = n >= len(_APP_WORDS) * len(_APP_KINDS)
            name = f"{word} {kind} {n}" if many else f"{word} {kind}"
            slug = f"{word}{kind}".lower()
            self.world.add_app(
                AppRecord(
                    id=app_id,
                    name=name,
                    bundle_id=f"com.team{self.spec.random_seed}.{slug}{n}",
                    sku=f"SKU-{n:05d}",
                    primary_locale=rng.choice(_LOCALES),
                )
            )
            self.app_ids.append(app_id)

    def users(self) -> None:
        """The Account Holder, an Admin, a restricted Developer, then a weighted mix."""
        rng, app_ids = self.rng, self.app_ids
        many_apps_quota = 0 if len(app_ids) <= 50 else max(2, self.spec.users // 200)
        for n in range(self.spec.users):
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            email = f"{first.lower()}.{last.lower()}.{n}@{self.domain}"
            if n == 0:
                roles: tuple[str, ...] = ("ACCOUNT_HOLDER", "ADMIN")
            elif n == 1:
                roles = ("ADMIN",)
            elif n == 2:
                roles = ("DEVELOPER",)
            else:
                roles = rng.choice(_ROLES_POOL)
            visible: list[str] | None = None  # every app
            if can_restrict_apps(roles) and (n == 2 or rng.random() < 0.8):
                if many_apps_quota and (n == 3 or rng.random() < 0.02):
                    many_apps_quota -= 1
                    count = rng.randint(51, min(len(app_ids), 120))
                else:
                    count = rng.randint(1, min(len(app_ids), 5))
                visible = rng.sample(app_ids, count)
            user_id = _uuid(rng)
            fields = person_fields(first, last, roles, visible, rng.random() < 0.3)
            self.world.add_user(UserRecord(id=user_id, username=email, **fields))

    def invitations(self) -> None:
        """Pending invitations, about one in ten expired."""
        rng, app_ids = self.rng, self.app_ids
        now = self.world.clock.now_datetime()
        for n in range(self.spec.invitations):
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            roles = rng.choice(_ROLES_POOL)
            restricted = can_restrict_apps(roles) and rng.random() < 0.5
            expired = rng.random() < 0.1
            invitation_id = _uuid(rng)  # the stream's order: id, provisioning, expiry, apps
            provisioning = rng.random() < 0.2
            hours = timedelta(hours=rng.randint(1, 72))
            visible = (
                rng.sample(app_ids, rng.randint(1, min(3, len(app_ids)))) if restricted else None
            )
            self.world.add_invitation(
                InvitationRecord(
                    id=invitation_id,
                    email=f"{first.lower()}.{last.lower()}.invite{n}@{self.domain}",
                    expiration=now - hours if expired else now + hours,
                    **person_fields(first, last, roles, visible, provisioning),
                )
            )


def _seed_generated(world: World, spec: SeedSpec) -> None:
    draw = _Draw(world, spec)
    draw.apps()
    draw.users()
    draw.invitations()


def apply_seed(world: World, spec: SeedSpec) -> None:
    """Fill an empty world from ``spec``."""
    if spec.generated:
        _seed_generated(world, spec)
    else:
        _seed_demo(world)


def key_users(world: World) -> dict[str, str]:
    """User ids for the ``individual-admin`` and ``individual-developer`` keys."""
    found: dict[str, str] = {}
    for user in sorted(world.users.values(), key=lambda u: u.seq):
        local = user.username.split("@", 1)[0]
        for name, wanted in DEMO_KEY_USERS.items():
            if local == wanted:
                found[name] = user.id
        if "individual-admin" not in found and user.roles == ["ADMIN"]:
            found.setdefault("_admin", user.id)
        if user.roles == ["DEVELOPER"] and not user.all_apps_visible:
            found.setdefault("_developer", user.id)
    admin = found.get("individual-admin") or found.get("_admin")
    developer = found.get("individual-developer") or found.get("_developer")
    result = {}
    if admin:
        result["individual-admin"] = admin
    if developer:
        result["individual-developer"] = developer
    return result
