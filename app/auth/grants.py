"""Which role a signed-in user holds, and what gave it to them.

In this order: `admin` for a verified email in ADMIN_EMAILS (`admins_list`); the token's `role`
custom claim when it names a role (`claim`); the role an admin set (`admin`);
FIREBASE_DEFAULT_ROLE for a verified email whose domain is in FIREBASE_ALLOWED_DOMAINS
(`domain`); else nothing, and the user waits for an admin (pending, `none`).

A role lasts as long as what gave it: it is decided again at every verification of the user's
token, so an email taken off a list or a claim removed takes the role with it, and the user
falls back to the role an admin set, else to their domain's role, else to pending. Between
sign-ins (an admin's PATCH, an API key the user created) it is decided from the stored row with
the settings in force now (`standing`): a list the email left no longer counts, a claim counts
as last seen.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.auth.roles import Role, RoleSource, granted
from app.core.config import Settings
from app.models import User


@dataclass(frozen=True, slots=True)
class Grant:
    role: Role | None  # None: pending
    source: RoleSource


def decide(
    *,
    email: str | None,
    email_verified: bool,
    claim: object,
    assigned: Role | None,
    settings: Settings,
) -> Grant:
    # An unverified address is anyone's to type: it matches neither list.
    address = (email or "").strip().lower() if email_verified else ""
    if address and address in {e.strip().lower() for e in settings.admin_emails}:
        return Grant(Role.admin, RoleSource.admins_list)
    if isinstance(claim, str) and claim in Role.__members__:
        return Grant(Role(claim), RoleSource.claim)
    if assigned is not None:
        return Grant(assigned, RoleSource.admin)
    if address and _domain(address) in allowed_domains(settings):
        return Grant(Role(settings.firebase_default_role), RoleSource.domain)
    return Grant(None, RoleSource.none)


def standing(user: User, settings: Settings) -> Grant:
    """The user's grant as their row tells it, between sign-ins. The row does not keep whether
    the email is verified: it was when a list gave the role, and is taken as not otherwise, so
    a list can take a role away here but never give one before the user signs in."""
    return decide(
        email=user.email,
        email_verified=user.role_source in (RoleSource.admins_list, RoleSource.domain),
        claim=granted(user.role) if user.role_source is RoleSource.claim else None,
        assigned=user.assigned_role,
        settings=settings,
    )


def allowed_domains(settings: Settings) -> set[str]:
    return {d.strip().lower().lstrip("@") for d in settings.firebase_allowed_domains}


def _domain(address: str) -> str:
    return address.rpartition("@")[2] if "@" in address else ""
