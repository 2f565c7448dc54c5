"""How the voice reads an abbreviation, as an editor taught it (beside the bundled dictionary)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.db import Base, UTCDateTime


class Reading(Base):
    """``written`` (an abbreviation as bulletins print it, case kept) → ``spoken`` words.
    An editor's reading wins over the bundled dictionary's (:mod:`scheduler.readings`)."""

    __tablename__ = "readings"

    id: Mapped[int] = mapped_column(primary_key=True)
    written: Mapped[str] = mapped_column(String(40), unique=True)
    spoken: Mapped[str] = mapped_column(String(300))
    added_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
