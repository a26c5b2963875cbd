"""Firebase ID tokens, verified with firebase-admin.

The SDK is synchronous and fetches Google's public keys over HTTP, so verification runs in a
worker thread under a timeout: keys that cannot be had make a 503, never a hung request. The
revocation check (a call to Firebase per user) is cached for FIREBASE_REVOCATION_CACHE_SECONDS,
so revoking a user or disabling them takes effect within that time.

FIREBASE_AUTH_EMULATOR_HOST (the SDK's own variable, read from the environment) points it at
the Auth emulator, which issues unsigned tokens: the SDK then checks neither the signature nor
any time claim, so anyone can forge any user and role. Settings allow it only in development
and on loopback; the expiry is checked here again, which stops replayed and careless forged
tokens but not a forger who sets a future `exp`.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import Any

import firebase_admin
from firebase_admin import auth, credentials
from google.auth.credentials import AnonymousCredentials
from google.auth.exceptions import DefaultCredentialsError

from app.core.config import Settings
from app.core.errors import ServiceUnavailable, Unauthorized
from app.core.logger import get_logger

log = get_logger(__name__)


class AuthUnavailable(ServiceUnavailable):
    error_code, title = "AUTH_UNAVAILABLE", "Sign-in verification unavailable"


@dataclass(frozen=True)
class FirebaseIdentity:
    uid: str
    email: str | None
    email_verified: bool
    name: str | None
    role_claim: str | None


class FirebaseVerifier:
    def __init__(self, settings: Settings) -> None:
        assert settings.firebase_project_id
        self.settings = settings
        if settings.firebase_certs_url:
            # Where Google's signing keys are fetched from (an offline mirror, or tests).
            from firebase_admin import _token_gen

            _token_gen.ID_TOKEN_CERT_URI = settings.firebase_certs_url
        # Verifying a token needs only the project id and Google's public keys; the revocation
        # check calls Firebase and needs credentials: the service-account file, else Application
        # Default Credentials (the SDK brings its own for the emulator).
        credential: Any = None
        if settings.firebase_service_account_path:
            credential = credentials.Certificate(str(settings.firebase_service_account_path))
        elif not settings.firebase_check_revoked:
            credential = _Anonymous()
        self.app = firebase_admin.initialize_app(
            credential,
            {
                "projectId": settings.firebase_project_id,
                "httpTimeout": settings.firebase_timeout_seconds,
            },
            name=f"workshop-{uuid.uuid4().hex[:8]}",
        )
        self._revocation: dict[str, tuple[float, bool, int]] = {}

    async def verify(self, token: str) -> FirebaseIdentity:
        try:
            async with asyncio.timeout(self.settings.firebase_timeout_seconds):
                claims = await asyncio.to_thread(self._verify, token)
        except TimeoutError:
            log.error("firebase_timeout")
            raise AuthUnavailable("Sign-in could not be verified in time; try again") from None
        return FirebaseIdentity(
            uid=claims["uid"],
            email=claims.get("email"),
            email_verified=bool(claims.get("email_verified")),
            name=claims.get("name"),
            role_claim=claims.get("role"),
        )

    def _verify(self, token: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = auth.verify_id_token(
                token,
                app=self.app,
                check_revoked=False,
                clock_skew_seconds=self.settings.firebase_clock_skew_seconds,
            )
            # The SDK checks no time claim of an emulator token; Google's check covers the rest.
            expires = claims.get("exp")
            skew = self.settings.firebase_clock_skew_seconds
            if not isinstance(expires, int | float) or expires + skew < time.time():
                raise auth.ExpiredIdTokenError("Token expired", None)
            if self.settings.firebase_check_revoked:
                self._check_revoked(claims)
        except auth.ExpiredIdTokenError:
            raise Unauthorized("The sign-in token has expired; sign in again") from None
        except auth.RevokedIdTokenError:
            raise Unauthorized("The sign-in was revoked; sign in again") from None
        except auth.UserDisabledError:
            raise Unauthorized("This user is disabled") from None
        except auth.CertificateFetchError as exc:
            log.error("firebase_keys_unavailable", error=str(exc))
            raise AuthUnavailable("Firebase's signing keys cannot be fetched; try again") from None
        except DefaultCredentialsError:
            log.error(
                "firebase_credentials_missing",
                hint="set FIREBASE_SERVICE_ACCOUNT_PATH (or Google Application Default "
                "Credentials) for FIREBASE_CHECK_REVOKED, or turn the check off",
            )
            raise AuthUnavailable("Sign-in verification is not configured correctly") from None
        except (auth.InvalidIdTokenError, ValueError) as exc:
            raise Unauthorized(f"The sign-in token is invalid ({_short(exc)})") from None
        return claims

    def _check_revoked(self, claims: dict[str, Any]) -> None:
        """What check_revoked=True does, with the answer cached per user for a short time."""
        uid = claims["uid"]
        now = time.monotonic()
        cached = self._revocation.get(uid)
        if cached is None or now - cached[0] > self.settings.firebase_revocation_cache_seconds:
            try:
                user = auth.get_user(uid, app=self.app)
            except auth.UserNotFoundError:
                raise Unauthorized("This user no longer exists") from None
            except firebase_admin.exceptions.FirebaseError as exc:
                log.error("firebase_unavailable", error=str(exc))
                raise AuthUnavailable("Firebase cannot be reached; try again") from None
            cached = (now, user.disabled, user.tokens_valid_after_timestamp or 0)
            self._revocation[uid] = cached
        _, disabled, valid_after_ms = cached
        if disabled:
            raise auth.UserDisabledError("disabled")
        if claims.get("iat", 0) * 1000 < valid_after_ms:
            raise auth.RevokedIdTokenError("revoked")

    def close(self) -> None:
        firebase_admin.delete_app(self.app)


class _Anonymous(credentials.Base):  # type: ignore[misc]
    """No credential: enough to verify tokens, which needs no call to Firebase."""

    def get_credential(self) -> Any:
        return AnonymousCredentials()  # type: ignore[no-untyped-call]


def _short(exc: Exception) -> str:
    text = str(exc).split(". ")[0]
    return text[:160]
