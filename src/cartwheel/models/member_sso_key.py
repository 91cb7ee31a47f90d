from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base, UTCDateTime, utcnow
from cartwheel.sealing import SealedText


class MemberSsoKey(Base):
    """The store's key for signing member single sign-on tokens (HMAC-SHA256), made the
    first time the store issues one."""

    __tablename__ = "member_sso_keys"

    store_id: Mapped[int] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )
    # 32 random bytes, hex; encrypted at rest under the application key (cartwheel/sealing.py).
    secret: Mapped[str] = mapped_column("secret_sealed", SealedText())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
