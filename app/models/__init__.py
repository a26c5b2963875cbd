"""Every ORM model, imported here so Alembic and the app see the whole metadata."""

from app.models.api_key import ApiKey
from app.models.base import Base
from app.models.user import User

__all__ = ["ApiKey", "Base", "User"]
