"""Seeds: the demo team is identical everywhere; generated teams are deterministic and
realistic; big teams start fast."""

from __future__ import annotations

from collections import Counter

from asc_access.sandbox import Sandbox, SandboxOptions
from asc_access.sandbox.seeds import SeedSpec
from asc_access.sandbox.vocabulary import can_restrict_apps


def _people(sandbox: Sandbox) -> list[tuple[str, str, tuple[str, ...], tuple[str, ...]]]:
    return [
        (u.id, u.username, tuple(u.roles), tuple(u.visible_app_ids))
        for u in sandbox.world.users.values()
    ]


def test_demo_team_is_identical_on_every_sandbox() -> None:
    first, second = Sandbox(), Sandbox()
    assert _people(first) == _people(second)
    assert list(first.world.apps) == list(second.world.apps)
    assert list(first.world.invitations) == list(second.world.invitations)
    assert first.issuer_id != second.issuer_id  # different teams, same people
    assert first.named_keys["admin"].key_id != second.named_keys["admin"].key_id


def test_demo_team_reads_well() -> None:
    world = Sandbox().world
    users = list(world.users.values())
    assert len(users) == 12
    assert sum("ACCOUNT_HOLDER" in u.roles for u in users) == 1
    assert sum(u.roles == ["ADMIN"] for u in users) >= 2
    assert sum("DEVELOPER" in u.roles for u in users) >= 3
    restricted = [u for u in users if not u.all_apps_visible]
    assert 3 <= len(restricted) <= 6
    assert all(1 <= len(u.visible_app_ids) <= 3 for u in restricted)
    assert 4 <= len(world.apps) <= 8
    assert all(a.bundle_id.startswith("com.") and a.name for a in world.apps.values())
    assert all(len(a.id) == 10 and a.id.isdigit() for a in world.apps.values())
    expired = [i for i in world.invitations.values() if world.is_expired(i)]
    assert len(world.invitations) == 2
    assert len(expired) == 1


def test_named_keys_point_at_sensible_people() -> None:
    sandbox = Sandbox()
    admin = sandbox.world.users[sandbox.named_keys["individual-admin"].user_id or ""]
    developer = sandbox.world.users[sandbox.named_keys["individual-developer"].user_id or ""]
    assert admin.roles == ["ADMIN"]
    assert developer.roles == ["DEVELOPER"]
    assert not developer.all_apps_visible
    assert sandbox.named_keys["revoked"].revoked
    generated = Sandbox(SandboxOptions(seed="generated", users=50, apps=10, random_seed=2))
    assert set(generated.named_keys) == {
        "admin",
        "developer",
        "individual-admin",
        "individual-developer",
        "revoked",
    }


def test_generated_teams_are_deterministic() -> None:
    options = SandboxOptions(seed="generated", users=300, apps=80, invitations=40, random_seed=5)
    assert _people(Sandbox(options)) == _people(Sandbox(options))
    other = SandboxOptions(seed="generated", users=300, apps=80, invitations=40, random_seed=6)
    assert _people(Sandbox(options)) != _people(Sandbox(other))


def test_generated_team_has_a_realistic_mix() -> None:
    options = SandboxOptions(seed="generated", users=2000, apps=200, invitations=100, random_seed=1)
    world = Sandbox(options).world
    users = list(world.users.values())
    assert len(users) == 2000
    assert len(world.apps) == 200
    assert len(world.invitations) == 100
    assert len({u.username for u in users}) == 2000
    assert len({u.id for u in users}) == 2000
    holders = [u for u in users if "ACCOUNT_HOLDER" in u.roles]
    assert len(holders) == 1
    restricted = [u for u in users if not u.all_apps_visible]
    assert len(restricted) > len(users) / 2, "most members are restricted"
    few = [u for u in restricted if len(u.visible_app_ids) <= 5]
    many = [u for u in restricted if len(u.visible_app_ids) > 50]
    assert len(few) > 0.9 * len(restricted)
    assert 2 <= len(many) <= 0.05 * len(users), "a few see more than 50 apps"
    assert all(can_restrict_apps(u.roles) for u in restricted)
    admins = [u for u in users if "ADMIN" in u.roles]
    assert admins
    assert all(u.all_apps_visible for u in admins)
    roles = Counter(r for u in users for r in u.roles)
    assert roles["DEVELOPER"] > roles["ADMIN"] > 0
    invitations = list(world.invitations.values())
    with_apps = [i for i in invitations if i.visible_app_ids]
    assert 0 < len(with_apps) < len(invitations)
    assert any(world.is_expired(i) for i in invitations)
    assert sum(not world.is_expired(i) for i in invitations) > len(invitations) / 2


def test_ten_thousand_users_generate_completely() -> None:
    """Startup time is measured by benchmarks/bench_sandbox.py, not asserted here."""
    options = SandboxOptions(
        seed="generated", users=10_000, apps=1_000, invitations=500, random_seed=0
    )
    world = Sandbox(options).world
    assert len(world.users) == 10_000
    assert len(world.apps) == 1_000
    assert len(world.invitations) == 500
    assert len({u.username.casefold() for u in world.users.values()}) == 10_000
    emails = {i.email.casefold() for i in world.invitations.values()}
    assert not emails & {u.username.casefold() for u in world.users.values()}


def test_options_are_a_seed_spec_and_hand_out_a_plain_one() -> None:
    options = SandboxOptions(seed="generated", users=3, apps=2, invitations=1, latency_ms=5)
    assert isinstance(options, SeedSpec)
    spec = options.seed_spec
    assert type(spec) is SeedSpec
    assert spec == SeedSpec("generated", 3, 2, 1, 0)
