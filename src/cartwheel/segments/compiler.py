"""The one evaluator: a condition compiled to a SQL boolean over ``contacts``.

The same expression builds a segment over all of a store's contacts (INSERT … SELECT; an
event condition is then one grouped pass over the events of its kind), counts a preview,
explains one contact (correlated subqueries over that contact's events, through the
per-contact index), and re-checks the worker's chunks of contacts (the event conditions of
all the segments as columns of one grouped pass per kind of event over those contacts:
:class:`Tally`). ``now`` is a parameter, never the database's clock, so a test can move
time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    false,
    func,
    literal_column,
    not_,
    or_,
    select,
    true,
)

from cartwheel.kit.sql import among
from cartwheel.models import Contact, Event, SegmentMembership, SubscriberListContact
from cartwheel.segments.definition import (
    Compare,
    ConsentCondition,
    EventCondition,
    Group,
    ListCondition,
    Node,
    ProfileCondition,
    PropertyCondition,
    SegmentCondition,
)

#: The JSON type names a custom field or property must have for each segment type.
_JSON_TYPES: dict[str, dict[str, tuple[str, ...]]] = {
    "sqlite": {
        "string": ("text",),
        "date": ("text",),
        "number": ("integer", "real"),
        "boolean": ("true", "false"),
    },
    "postgresql": {
        "string": ("string",),
        "date": ("string",),
        "number": ("number",),
        "boolean": ("boolean",),
    },
}


def iso(moment: datetime) -> str:
    """A moment as the text stored date properties use (``2026-04-02T12:00:00Z``)."""
    return moment.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Context:
    """What a condition is compiled for. ``per_contact``: the enclosing query asks about a
    few known contacts (a re-check, an explanation), so an event condition reads each
    contact's slice of the log through the per-contact index (a correlated subquery);
    otherwise it asks about the whole store (a build, a preview), so an event condition is
    one set-based pass over the events it counts, grouped by contact, read through the
    store/name or store/kind index once instead of once per contact."""

    store_id: int
    now: datetime
    dialect: str  # "sqlite" | "postgresql"
    per_contact: bool = False
    #: Per contact, where given: the event conditions become columns of the tally's grouped
    #: passes (:class:`Tally`) instead of a correlated subquery each.
    tally: Tally | None = None


@dataclass(slots=True)
class _KindTally:
    """The aggregates over one kind of event (a name, or a lifecycle category and action)."""

    node: EventCondition  # the first condition of the kind: its kind filters
    alias: str
    aggregates: list[ColumnElement[Any]] = field(default_factory=list)
    #: The earliest moment any of the aggregates counts from (None: some count everything).
    since: datetime | None = None
    bounded: bool = True


@dataclass(slots=True)
class Tally:
    """The event conditions of a statement that re-checks many segments for a chunk of
    known contacts, as one grouped pass per kind of event: ``SELECT contact_id, count(*)
    FILTER (WHERE <condition 1>), sum(…) FILTER (WHERE <condition 2>), … FROM events WHERE
    contact_id IN (…) AND name = … GROUP BY contact_id``, outer-joined to the contacts
    (:meth:`joined`; on PostgreSQL the same aggregates per contact, joined laterally). A
    correlated subquery per condition read a contact's events once per condition (the
    per-contact index does not hold the name, so each read fetched every event row of the
    window); here each is read once for all of them. Answers are the same: a contact
    without such events has a count and a sum of 0."""

    contact_ids: list[int]
    kinds: dict[tuple[str | None, ...], _KindTally] = field(default_factory=dict)

    def condition(self, node: EventCondition, ctx: Context) -> ColumnElement[bool]:
        """The condition, as a comparison of its aggregate column (for :meth:`joined`)."""
        if node.sum is not None:
            aggregate: Any = func.sum(sum_column(node, ctx))
            op, target = node.sum_op, node.sum_value
        else:
            aggregate, op, target = func.count(), node.count_op, float(node.count)
        kind, name = self._add(node, ctx, aggregate)
        total: ColumnElement[Any] = func.coalesce(literal_column(f"{kind.alias}.{name}"), 0.0)
        return _count_compare(op, total, target)

    def oldest(self, node: EventCondition, ctx: Context) -> ColumnElement[Any]:
        """A column (for :meth:`joined`): each contact's oldest event the condition counts,
        NULL for a contact without one."""
        kind, name = self._add(node, ctx, func.min(Event.occurred_at))
        return literal_column(f"{kind.alias}.{name}", type_=Event.occurred_at.type)

    def _add(self, node: EventCondition, ctx: Context, aggregate: Any) -> tuple[_KindTally, str]:
        key = (node.name, node.category, node.action)
        kind = self.kinds.get(key)
        if kind is None:
            kind = self.kinds[key] = _KindTally(node, f"tally_{len(self.kinds)}")
        low = node.within.bounds(ctx.now)[0] if node.within is not None else None
        if low is None:
            kind.bounded = False
        elif kind.since is None or low < kind.since:
            kind.since = low
        counted = _counted_filters(node, ctx)
        if counted:
            aggregate = aggregate.filter(and_(*counted))
        name = f"a{len(kind.aggregates)}"
        kind.aggregates.append(aggregate.label(name))
        return kind, name

    def _grouped(self, kind: _KindTally, ctx: Context) -> Select[Any]:
        return self._filtered(
            select(Event.contact_id.label("contact_id"), *kind.aggregates),
            kind,
            among(ctx.dialect, Event.contact_id, self.contact_ids),
            ctx,
        ).group_by(Event.contact_id)

    def _filtered(
        self, query: Select[Any], kind: _KindTally, contacts: ColumnElement[bool], ctx: Context
    ) -> Select[Any]:
        """``query`` over the events of the kind, of ``contacts``, in the widest window."""
        filters = [Event.store_id == ctx.store_id, contacts, *kind_filters(kind.node, ctx)]
        if kind.bounded and kind.since is not None:
            filters.append(Event.occurred_at >= kind.since)
        return query.where(*filters)

    def joined(self, query: Any, ctx: Context) -> Any:
        """``query`` (over ``contacts``) outer-joined to each kind's grouped pass; on
        PostgreSQL joined laterally: each contact's events of the kind aggregated through
        the per-contact index. A join to the grouped pass is planned from the tables'
        statistics, and while they still describe a near-empty table (a new store, before
        autovacuum's ANALYZE) the planner chose a nested loop that grouped the chunk's
        events again for every contact: 2.5 s a chunk of 2,000 instead of 40 ms. The
        lateral pass has one plan whatever the statistics say."""
        for kind in self.kinds.values():
            if ctx.dialect == "postgresql":
                per_contact = self._filtered(
                    select(*kind.aggregates), kind, Event.contact_id == Contact.id, ctx
                )
                query = query.join(per_contact.lateral(kind.alias), true())
                continue
            grouped = self._grouped(kind, ctx).subquery(kind.alias)
            query = query.outerjoin(grouped, grouped.c.contact_id == Contact.id)
        return query


def active(store_id: int, ctx: Context | None = None) -> ColumnElement[bool]:
    """The contacts a segment may hold: the store's, not deleted, not merged away, not
    anonymous profiles (nothing to market to until they are identified). Asked per contact
    (``ctx.per_contact``), the store is compared as an expression
    (``store_id + 0``) so the planner finds the few contacts by primary key instead of
    walking the store's index over every contact (SQLite's choice without statistics)."""
    store = Contact.store_id
    live = (Contact.deleted_at.is_(None), Contact.merged_into_id.is_(None))
    known = Contact.is_contact.is_(True)
    if ctx is not None and ctx.per_contact:
        return and_(store + 0 == store_id, *live, known)
    return and_(store == store_id, *live, known)


def compile_condition(node: Node, ctx: Context) -> ColumnElement[bool]:
    """``node`` as a boolean over the ``contacts`` row in the enclosing query."""
    if isinstance(node, Group):
        parts = [compile_condition(child, ctx) for child in sorted(node.children, key=_cost)]
        if node.kind == "all":
            return and_(true(), *parts)
        if node.kind == "any":
            return or_(false(), *parts)
        return not_(parts[0])
    if isinstance(node, EventCondition):
        return _event(node, ctx)
    if isinstance(node, ProfileCondition):
        return _profile(node, ctx)
    if isinstance(node, ListCondition):
        return exists(
            select(1).where(
                SubscriberListContact.list_id == node.list_id,
                SubscriberListContact.contact_id == Contact.id,
            )
        )
    if isinstance(node, SegmentCondition):
        return exists(
            select(1).where(
                SegmentMembership.segment_id == node.segment_id,
                SegmentMembership.contact_id == Contact.id,
            )
        )
    if isinstance(node, ConsentCondition):
        return Contact.subscribed.is_(True) if node.subscribed else Contact.subscribed.is_(False)
    raise TypeError(f"not a contact condition: {node!r}")


def _cost(node: Node) -> int:
    """A rank for ordering a group's parts so the cheap ones decide first (SQLite evaluates
    ``AND``/``OR`` terms in the order written; the answer does not depend on it)."""
    if isinstance(node, ProfileCondition | ConsentCondition):
        return 0
    if isinstance(node, ListCondition | SegmentCondition):
        return 1
    return 2


def event_filters(
    node: EventCondition, ctx: Context, *, correlate: bool = True
) -> list[ColumnElement[bool]]:
    """The filters choosing the events a condition counts, for the enclosing contact (or,
    without ``correlate``, for every contact)."""
    filters: list[ColumnElement[bool]] = [Event.store_id == ctx.store_id]
    if correlate:
        filters.append(Event.contact_id == Contact.id)
    return filters + kind_filters(node, ctx) + _counted_filters(node, ctx)


def _counted_filters(node: EventCondition, ctx: Context) -> list[ColumnElement[bool]]:
    """Among the events of the condition's kind, those it counts: its window, its
    ``where``."""
    filters: list[ColumnElement[bool]] = []
    if node.within is not None:
        low, high = node.within.bounds(ctx.now)
        if node.within.seconds is not None and low is not None:
            filters.append(Event.occurred_at > low)
        else:
            if low is not None:
                filters.append(Event.occurred_at >= low)
            if high is not None:
                filters.append(Event.occurred_at < high)
    if node.where is not None:
        filters.append(_where(node.where, ctx))
    return filters


def kind_filters(node: EventCondition, ctx: Context) -> list[ColumnElement[bool]]:
    """The events of the condition's name or lifecycle kind. Asked per contact, the columns
    are compared as expressions (``name || ''``), which no index serves: a planner without
    statistics (SQLite's always, PostgreSQL's on a table that autovacuum has not analyzed
    yet) may otherwise walk the store/name index, every event of that name in the store,
    once per contact, instead of the contact's slice of the per-contact index. Measured:
    44 ms instead of 26 µs per contact on SQLite; a PostgreSQL backlog of 16,000 events
    that took 246 s to drain."""

    def column(attribute: Any) -> Any:
        return attribute + "" if ctx.per_contact else attribute

    if node.name is not None:
        return [column(Event.name) == node.name]
    found = [column(Event.category) == node.category]
    if node.action is not None:
        found.append(column(Event.action) == node.action)
    return found


def _event(node: EventCondition, ctx: Context) -> ColumnElement[bool]:
    if not ctx.per_contact:
        return _event_set(node, ctx)
    if ctx.tally is not None:
        return ctx.tally.condition(node, ctx)
    filters = event_filters(node, ctx)
    if node.sum is not None:
        total = select(func.coalesce(func.sum(sum_column(node, ctx)), 0.0)).where(*filters)
        return _count_compare(node.sum_op, total.scalar_subquery(), node.sum_value)
    if node.count_op == "gte" and node.count == 1:
        return exists(select(1).where(*filters))
    if (node.count_op, node.count) in (("eq", 0), ("lt", 1), ("lte", 0)):
        return not_(exists(select(1).where(*filters)))
    counted = select(func.count()).where(*filters).scalar_subquery()
    return _count_compare(node.count_op, counted, node.count)


def _event_set(node: EventCondition, ctx: Context) -> ColumnElement[bool]:
    """The event condition over the whole store: the contacts whose counted events' count
    (or sum) passes, found by one grouped pass over those events. A contact with no such
    event has a count and sum of 0; when 0 passes, the contacts that match are the ones NOT
    among those whose aggregate fails."""
    key = _contact_key(ctx)
    filters = [*event_filters(node, ctx, correlate=False), key.is_not(None)]
    if node.sum is not None:
        aggregate: Any = func.coalesce(func.sum(sum_column(node, ctx)), 0.0)
        op, target = node.sum_op, node.sum_value
    else:
        aggregate, op, target = func.count(), node.count_op, float(node.count)
    zero_passes = _passes(op, 0.0, target)
    if node.sum is None and (op, target) in (
        ("gte", 1.0),
        ("gt", 0.0),
        ("eq", 0.0),
        ("lt", 1.0),
        ("lte", 0.0),
    ):
        # Whether the contact has any such event at all: no grouping needed.
        having_any = select(key).where(*filters)
        return _member(having_any, ctx, negate=zero_passes)
    passed = _count_compare(op, aggregate, target)
    grouped = select(key).where(*filters).group_by(key)
    if zero_passes:
        return _member(grouped.having(not_(passed)), ctx, negate=True)
    return _member(grouped.having(passed), ctx, negate=False)


def _contact_key(ctx: Context) -> ColumnElement[Any]:
    """The events' contact id as the set-based subqueries select and group it. On SQLite,
    ``contact_id + 0``: without statistics its planner would otherwise read the events through
    the per-contact index to save the ``GROUP BY``'s sort, i.e. every event of the store,
    instead of only those of the name or kind (in the window) through their own index.
    PostgreSQL plans from its statistics."""
    if ctx.dialect == "sqlite":
        return (Event.contact_id + 0).label("contact_id")
    return Event.contact_id.label("contact_id")


def _passes(op: str, value: float, target: float) -> bool:
    return {
        "eq": value == target,
        "gte": value >= target,
        "gt": value > target,
        "lte": value <= target,
        "lt": value < target,
    }[op]


def _member(contact_ids: Any, ctx: Context, *, negate: bool) -> ColumnElement[bool]:
    """``contacts.id`` in (or, ``negate``, not in) the subquery's contact ids. PostgreSQL
    plans ``NOT IN (subquery)`` as a per-row search once the ids outgrow ``work_mem``;
    ``NOT EXISTS`` becomes a hash anti-join there."""
    if not negate:
        return Contact.id.in_(contact_ids)
    if ctx.dialect == "sqlite":
        return Contact.id.not_in(contact_ids)
    found = contact_ids.subquery()
    return not_(exists(select(1).select_from(found).where(found.c.contact_id == Contact.id)))


def sum_column(node: EventCondition, ctx: Context) -> ColumnElement[Any]:
    """What ``sum`` adds up: the event's value, or a numeric property (others count 0)."""
    if node.sum == "value":
        value: ColumnElement[Any] = Event.value.expression
        return value
    assert node.sum is not None
    typed = _typed(Event.property_types, Event.properties, node.sum, "number", ctx)
    return func.coalesce(
        _case(typed, Event.properties[node.sum].as_float()),
        0.0,
    )


def _case(condition: ColumnElement[bool], value: ColumnElement[Any]) -> ColumnElement[Any]:
    return case((condition, value), else_=None)


def _count_compare(op: str, left: Any, right: float) -> ColumnElement[bool]:
    if op == "eq":
        return left == right  # type: ignore[no-any-return]
    if op == "gte":
        return left >= right  # type: ignore[no-any-return]
    if op == "gt":
        return left > right  # type: ignore[no-any-return]
    if op == "lte":
        return left <= right  # type: ignore[no-any-return]
    return left < right  # type: ignore[no-any-return]


def _where(node: Node, ctx: Context) -> ColumnElement[bool]:
    if isinstance(node, Group):
        parts = [_where(child, ctx) for child in node.children]
        if node.kind == "all":
            return and_(true(), *parts)
        if node.kind == "any":
            return or_(false(), *parts)
        return not_(parts[0])
    assert isinstance(node, PropertyCondition)
    kind = node.compare.type
    typed = _typed(Event.property_types, Event.properties, node.property, kind, ctx)
    value = _json_value(Event.properties, node.property, kind)
    return _compare(node.compare, value, typed, ctx)


def _typed(types: Any, values: Any, name: str, kind: str, ctx: Context) -> ColumnElement[bool]:
    """Whether the JSON value ``values[name]`` has ``kind`` (an event property by its
    recorded type; a custom field by its JSON type). Never NULL: a missing value is false
    here, so ``not`` over it is true (SQL's NULL would make both false)."""
    found: Any
    if types is not None:
        found = func.coalesce(types[name].as_string(), "")
        wanted: tuple[str, ...] = (
            ("string", "number", "boolean", "date") if kind == "any" else (kind,)
        )
    else:
        if ctx.dialect == "sqlite":
            found = func.json_type(values, f'$."{_quoted(name)}"')
        else:
            found = func.jsonb_typeof(values[name])
        found = func.coalesce(found, "")
        table = _JSON_TYPES[ctx.dialect]
        wanted = tuple(t for k in table for t in table[k]) if kind == "any" else table[kind]
    typed: ColumnElement[bool] = found.in_(wanted)
    return typed


def _quoted(name: str) -> str:
    return name.replace("\\", "\\\\").replace('"', '\\"')


def _json_value(values: Any, name: str, kind: str) -> ColumnElement[Any]:
    element = values[name]
    if kind == "number":
        return element.as_float()  # type: ignore[no-any-return]
    if kind == "boolean":
        return element.as_boolean()  # type: ignore[no-any-return]
    return element.as_string()  # type: ignore[no-any-return]


def _profile(node: ProfileCondition, ctx: Context) -> ColumnElement[bool]:
    if node.column is not None:
        column = getattr(Contact, node.column)
        present = column.is_not(None)
        if node.compare.type == "string":
            present = and_(present, column != "")
        return _compare(node.compare, column, present, ctx, native_date=True)
    assert node.custom is not None
    kind = node.compare.type
    typed = _typed(None, Contact.custom_fields, node.custom, kind, ctx)
    value = _json_value(Contact.custom_fields, node.custom, kind)
    return _compare(node.compare, value, typed, ctx)


def _compare(
    compare: Compare,
    value: Any,
    present: ColumnElement[bool],
    ctx: Context,
    *,
    native_date: bool = False,
) -> ColumnElement[bool]:
    """``value`` (present when ``present``) compared by ``compare``. A missing value (or one
    of another type) satisfies only ``neq``, ``not_in`` and ``not_exists``."""
    op, arg = compare.op, compare.value
    if op == "exists":
        return present
    if op == "not_exists":
        return not_(present)
    if op in ("neq", "not_in"):
        inner = value == arg if op == "neq" else value.in_(list(arg))
        return or_(not_(present), not_(inner))
    if compare.type == "date":
        moment = (lambda m: m) if native_date else iso
        now = ctx.now
        if op == "before":
            test = value < moment(arg)
        elif op == "after":
            test = value > moment(arg)
        elif op == "between":
            test = and_(value >= moment(arg[0]), value <= moment(arg[1]))
        elif op == "within_last":
            test = and_(value > moment(now - arg), value <= moment(now))
        elif op == "more_than_ago":
            test = value <= moment(now - arg)
        else:  # within_next
            test = and_(value > moment(now), value <= moment(now + arg))
        return and_(present, test)
    if op == "eq":
        test = value == arg
    elif op == "in":
        test = value.in_(list(arg))
    elif op == "contains":
        test = func.lower(value).contains(arg.lower(), autoescape=True)
    elif op == "starts_with":
        test = func.lower(value).startswith(arg.lower(), autoescape=True)
    elif op == "between":
        test = and_(value >= arg[0], value <= arg[1])
    else:
        test = _count_compare(op, value, arg)
    return and_(present, test)
