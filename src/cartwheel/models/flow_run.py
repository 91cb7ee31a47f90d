from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from cartwheel.models.base import Base, JSONType, UTCDateTime, utcnow


class FlowRun(Base):
    """One contact's way through one version of a flow: the durable state the worker
    advances in transactions.

    ``state`` is ``active`` until the run ends as ``done`` (it reached an exit or the end),
    ``exited`` (an ``exitOn`` event, the contact gone, the flow deleted) or ``failed``.
    An active run is at ``step``; when it waits, ``deadline`` is its step's timer and
    ``wake_at`` when the sweep looks at it next (the deadline, or sooner after a resume).
    ``slot`` is the run's key while it is active under "one active run per key" and NULL
    otherwise: the unique index on it makes a second active run for the same key
    impossible, whichever worker tries."""

    __tablename__ = "flow_runs"
    __table_args__ = (
        # The contact first: the same index serves every read of a contact's runs (an
        # event's contact's active runs, re-entry's last starts, the contact's page).
        Index("uq_flow_runs_slot", "contact_id", "flow_id", "slot", unique=True),
        # A flow's runs newest first, all or in one state (the engine's active runs, the
        # runs listing); store_id last, so the listing's store check reads the index alone.
        Index("ix_flow_runs_flow_state", "flow_id", "state", "id", "store_id"),
        Index("ix_flow_runs_flow_id", "flow_id", "id", "store_id"),
        # A flow's figures (runs by state, active runs by step, test runs left out) counted
        # from the index alone.
        Index("ix_flow_runs_figures", "flow_id", "test", "state", "step"),
        Index(
            "ix_flow_runs_wake",
            "wake_at",
            postgresql_where=text("wake_at IS NOT NULL"),
            sqlite_where=text("wake_at IS NOT NULL"),
        ),
        # Room on each page for a run's next version: a later event of the run's key
        # rewrites its trigger columns alone (``flows/engine.py``), which PostgreSQL then
        # writes beside the old version without touching an index (a HOT update).
        {"postgresql_with": {"fillfactor": 80}},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: No foreign keys on a run (each was a check per run written, in the transaction
    #: that decides how fast a store's events are processed under live flows):
    #:
    #: - the store's (0024): the run's contact belongs to the store;
    #: - the flow's (0025): flows are never deleted (``deleted_at``);
    #: - the contact's (0028): contacts are never deleted either (a deletion is
    #:   ``deleted_at``, a merge keeps the row: ``identity/owned.py``), and the engine
    #:   starts a run only for a contact it read in the same transaction. On PostgreSQL
    #:   its check was 6.5 of the 17 µs a run's ``COPY`` cost the server.
    store_id: Mapped[int] = mapped_column(Integer)
    flow_id: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    contact_id: Mapped[int] = mapped_column(Integer)
    #: What names the run (the cart's id); "" when the trigger has no key.
    key: Mapped[str] = mapped_column(String(300), default="")
    slot: Mapped[str | None] = mapped_column(String(300), default=None)
    state: Mapped[str] = mapped_column(String(16), default="active")
    step: Mapped[str | None] = mapped_column(String(100), default=None)
    #: When the current step was reached (a wait_for_event without `since` counts events
    #: from here).
    step_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    #: The current step's visit number in the step log (``flow_run_steps.seq``).
    seq: Mapped[int] = mapped_column(Integer, default=0)
    #: What an active run waits for: {"kind": "timer"} or {"kind": "event", …}; None when
    #: it is not waiting.
    waiting: Mapped[dict[str, Any] | None] = mapped_column(JSONType, default=None)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    wake_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    #: The trigger's event time (the latest, when later triggers refresh the run): what
    #: ``"since": "trigger"`` counts from.
    trigger_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The trigger for templates: {"event": {…}, "record": {…}, "source": …}.
    trigger: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    test: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(String(300), default=None)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
