from __future__ import annotations

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base


class MemberGroupMember(Base):
    """A member's membership of a member group."""

    __tablename__ = "member_group_members"
    __table_args__ = (Index("ix_member_group_members_group", "group_id"),)

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[int] = mapped_column(
        ForeignKey("member_groups.id", ondelete="CASCADE"), primary_key=True
    )
