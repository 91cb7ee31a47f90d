"""flow step log: a visit's row is written when the visit ends

A run that waits (a timer, an awaited event) no longer has a ``waiting`` row in
``flow_run_steps``: its own columns (step, seq, step_at, waiting, deadline) hold the visit
until it ends, and the row is then written whole (``cartwheel.flows.engine.waiting_visit``).
Starting a run that waits writes the run alone. The upgrade removes the rows of the visits
active runs are waiting in (the runs' columns say the same); the downgrade writes them back.

Revision ID: 0023
Revises: 0021
Create Date: 2026-12-02 07:00:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0023"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHUNK = 1000
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_MOMENT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.execute(
        "DELETE FROM flow_run_steps WHERE status = 'waiting' AND EXISTS ("
        "SELECT 1 FROM flow_runs WHERE flow_runs.id = flow_run_steps.run_id"
        " AND flow_runs.seq = flow_run_steps.seq AND flow_runs.state = 'active'"
        " AND flow_runs.waiting IS NOT NULL)"
    )


def downgrade() -> None:
    runs = sa.table(
        "flow_runs",
        sa.column("id", sa.Integer),
        sa.column("flow_id", sa.Integer),
        sa.column("seq", sa.Integer),
        sa.column("step", sa.String),
        sa.column("state", sa.String),
        sa.column("waiting", _JSON),
        sa.column("deadline", _MOMENT),
        sa.column("step_at", _MOMENT),
        sa.column("started_at", _MOMENT),
    )
    steps = sa.table(
        "flow_run_steps",
        sa.column("run_id", sa.Integer),
        sa.column("seq", sa.Integer),
        sa.column("flow_id", sa.Integer),
        sa.column("step", sa.String),
        sa.column("type", sa.String),
        sa.column("status", sa.String),
        sa.column("detail", _JSON),
        sa.column("entered_at", _MOMENT),
    )
    connection = op.get_bind()
    waiting = connection.execute(
        sa.select(runs)
        .where(runs.c.state == "active", runs.c.waiting.is_not(None), runs.c.step.is_not(None))
        .order_by(runs.c.id)
    ).all()
    rows = [
        {
            "run_id": run.id,
            "seq": run.seq,
            "flow_id": run.flow_id,
            "step": run.step,
            "type": "wait_for_event" if (run.waiting or {}).get("kind") == "event" else "wait",
            "status": "waiting",
            "detail": {"until": _utc(run.deadline).isoformat()} if run.deadline else {},
            "entered_at": run.step_at or run.started_at,
        }
        for run in waiting
    ]
    for start in range(0, len(rows), _CHUNK):
        connection.execute(sa.insert(steps), rows[start : start + _CHUNK])


def _utc(moment: datetime) -> datetime:
    """SQLite keeps moments naive, in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
