"""The policy file: YAML, validated with pydantic; every error names its line.

::

    policies:
      - id: few-admins
        kind: max_admins          # at most `max` Admins per team
        max: 2
      - id: company-mail
        kind: allowed_domains     # e-mail domains people may have
        domains: [example.com]
      - id: stale-invites
        kind: invitation_age      # pending invitations older than `days`
        days: 7
      - id: leavers
        kind: leavers             # people not in the staff directory (CSV of e-mails)
        directory: staff.csv      # relative to the policy file
      - id: admin-sprawl
        kind: admin_on_teams      # the same person Admin on more than `max` teams
        max: 1
      - id: outside-changes
        kind: out_of_band_change  # a role granted outside asc-access
      - id: broken-keys
        kind: connection_unhealthy  # a connection unhealthy for over `hours`
        hours: 24
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from asc_access.errors import UsageError

__all__ = ["KINDS", "Policy", "PolicyFile", "load_policies", "parse_policies"]

PolicyId = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


class _Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: PolicyId


class MaxAdmins(_Policy):
    """At most ``max`` Admins per team."""

    kind: Literal["max_admins"]
    max: int = Field(ge=0)


class AllowedDomains(_Policy):
    """E-mail domains people may have (a subdomain counts as its domain)."""

    kind: Literal["allowed_domains"]
    domains: list[Annotated[str, StringConstraints(min_length=1, to_lower=True)]] = Field(
        min_length=1
    )


class InvitationAge(_Policy):
    """Pending invitations open longer than ``days``."""

    kind: Literal["invitation_age"]
    days: float = Field(ge=0)


class Leavers(_Policy):
    """People on a team whose e-mail is not in the staff ``directory``."""

    kind: Literal["leavers"]
    directory: str = Field(min_length=1)


class AdminOnTeams(_Policy):
    """The same person Admin on more than ``max`` teams."""

    kind: Literal["admin_on_teams"]
    max: int = Field(ge=0)


class OutOfBandChange(_Policy):
    """A role granted outside asc-access (seen by a sync, made by no action of ours)."""

    kind: Literal["out_of_band_change"]


class ConnectionUnhealthy(_Policy):
    """A connection unhealthy for over ``hours``."""

    kind: Literal["connection_unhealthy"]
    hours: float = Field(ge=0)


Policy = (
    MaxAdmins
    | AllowedDomains
    | InvitationAge
    | Leavers
    | AdminOnTeams
    | OutOfBandChange
    | ConnectionUnhealthy
)
_MODELS: dict[str, type[_Policy]] = {
    "max_admins": MaxAdmins,
    "allowed_domains": AllowedDomains,
    "invitation_age": InvitationAge,
    "leavers": Leavers,
    "admin_on_teams": AdminOnTeams,
    "out_of_band_change": OutOfBandChange,
    "connection_unhealthy": ConnectionUnhealthy,
}
KINDS: tuple[str, ...] = tuple(_MODELS)


@dataclass(frozen=True, slots=True)
class PolicyFile:
    """The parsed file: its policies in order, and where it was read from."""

    policies: tuple[Policy, ...]
    source: str
    base_dir: Path

    def resolve(self, path: str) -> Path:
        """A path named in the file, relative to the file's directory."""
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else self.base_dir / candidate


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _fail(source: str, line: int, message: str) -> UsageError:
    return UsageError(f"{source}, line {line}: {message}")


def _key_lines(node: yaml.MappingNode) -> dict[str, int]:
    return {str(k.value): _line(k) for k, _ in node.value if isinstance(k, yaml.ScalarNode)}


def _one(raw: Any, node: yaml.Node, source: str) -> Policy:
    line = _line(node)
    if not isinstance(raw, dict) or not isinstance(node, yaml.MappingNode):
        raise _fail(source, line, "each policy is a mapping with `id` and `kind`")
    kind = raw.get("kind")
    model = _MODELS.get(str(kind)) if kind is not None else None
    if model is None:
        where = _key_lines(node).get("kind", line)
        shown = "no kind" if kind is None else f"unknown kind {kind!r}"
        raise _fail(source, where, f"{shown} (known: {', '.join(KINDS)})")
    try:
        policy: Policy = model.model_validate(raw)  # type: ignore[assignment]
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        where = _key_lines(node).get(field, line)
        if first["type"] == "extra_forbidden":
            message = f"unknown field {field!r} for kind {kind}"
        else:
            message = f"{field or 'policy'}: {first['msg']}"
        raise _fail(source, where, message) from None
    return policy


def parse_policies(
    text: str, source: str = "policies.yaml", base_dir: Path | None = None
) -> PolicyFile:
    """Parse and validate a policy document.

    Raises:
        UsageError: not YAML, or a policy that does not validate (the message names the line).
    """
    try:
        node = yaml.compose(text)
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise _fail(source, line, f"not valid YAML ({getattr(error, 'problem', error)})") from None
    if node is None or document is None:
        return PolicyFile((), source, base_dir or Path.cwd())
    if not isinstance(document, dict) or not isinstance(node, yaml.MappingNode):
        raise _fail(source, _line(node), "the file is a mapping with a `policies:` list")
    lines = _key_lines(node)
    for key in document:
        if key != "policies":
            raise _fail(source, lines.get(str(key), 1), f"unknown top-level field {key!r}")
    items_node = next((v for k, v in node.value if k.value == "policies"), None)
    raw_items = document.get("policies") or []
    if not isinstance(raw_items, list) or not isinstance(items_node, yaml.SequenceNode | None):
        raise _fail(source, lines.get("policies", 1), "`policies` is a list")
    nodes = items_node.value if isinstance(items_node, yaml.SequenceNode) else []
    policies: list[Policy] = []
    seen: set[str] = set()
    for raw, item_node in zip(raw_items, nodes, strict=True):
        policy = _one(raw, item_node, source)
        if policy.id in seen:
            raise _fail(source, _line(item_node), f"duplicate policy id {policy.id!r}")
        seen.add(policy.id)
        policies.append(policy)
    return PolicyFile(tuple(policies), source, base_dir or Path.cwd())


def load_policies(path: Path) -> PolicyFile:
    """Read and validate the policy file at ``path``.

    Raises:
        UsageError: the file is missing or unreadable, or does not validate.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read the policy file {path}: {error}") from error
    return parse_policies(text, str(path), path.resolve().parent)
