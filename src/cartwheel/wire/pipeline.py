"""The ingest pipeline: the one sequence every wire format's event endpoint runs.

::

    authenticate + charge the rate limit   the endpoint's credential dependency (auth/)
    read the body, size checked first      Pipeline            (settings.max_body_bytes)
    decode                                 adapter.decode      (decode.py)
    payload limits                         Pipeline            (adapter.limited names the parts)
    map to canonical events                adapter.to_canonical (mapping.py)
    ingest                                 Pipeline            (ingest/service.py; test events
                                                                read-only, never the writer)
    count the ingested-events metric       Pipeline            (one rule: stored now)
    answer, with the X-RateLimit-* headers adapter.answer      (answers.py)
    render an error                        adapter.render_error (errors.py), by the route

An adapter is a package under ``wire/`` with the same files in every format: ``endpoints.py``
(the routes and their OpenAPI declarations), ``schemas.py`` (request and answer shapes,
examples), ``decode.py``, ``mapping.py``, ``answers.py``, ``errors.py``, and ``adapter.py``,
which assembles them into one object satisfying :class:`Adapter` (or :class:`BatchAdapter`).
Adding a format is one such package and one line in ``api.py``'s router list.

Payload limits are the core's: every format refuses a body over ``max_body_bytes`` (413) or
nested deeper than :data:`~cartwheel.kit.body.MAX_BODY_DEPTH` (400), more than
``max_properties`` top-level properties in the parts it names, and strings over
``max_string_bytes`` or holding NUL, or objects and arrays nested deeper than
``max_json_depth``, anywhere in them (:mod:`cartwheel.ingest.properties`);
an adapter only says where its data sits and words the error. Column lengths come from
:mod:`cartwheel.limits`.

The single-event path allocates nothing beyond what the steps themselves need (no context
object per request) and awaits only the body and the ingest: the native endpoint's fast
lane (:mod:`cartwheel.kit.fastlane`) runs it as is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, cast

from starlette.requests import Request
from starlette.responses import Response

from cartwheel.auth.cache import StoreContext
from cartwheel.exceptions import AppError
from cartwheel.health import EVENTS_INGESTED
from cartwheel.ingest.canonical import CanonicalEvent, IngestResult
from cartwheel.ingest.properties import Part, check_limits
from cartwheel.ingest.service import ingest
from cartwheel.kit.body import read_body
from cartwheel.ratelimit import Quota
from cartwheel.runtime import Runtime

P = TypeVar("P")

__all__ = ["Adapter", "BatchAdapter", "Item", "Part", "Pipeline", "quota_headers"]


@dataclass(slots=True)
class Item(Generic[P]):
    """One event of a batch request, as far as it got."""

    index: int
    #: The decoded event; None when decoding it failed.
    payload: P | None
    #: Its canonical event; None when decoding, limits or mapping failed.
    event: CanonicalEvent | None
    #: What became of it: the ingest result, or the error that stopped it at any step.
    outcome: IngestResult | AppError


class Adapter(Protocol[P]):
    """What a wire format supplies; the :class:`Pipeline` does everything else.

    ``P`` is the adapter's decoded request (a msgspec Struct, a dict…). Every method may
    raise :class:`AppError`; the route renders it with :meth:`render_error`."""

    #: The ``wire`` label of ``cartwheel_events_ingested_total``.
    name: str

    def decode(self, body: bytes) -> P:
        """``decode.py``: the request body (already size-checked) as this format's event,
        structurally valid, with the format's messages."""
        ...

    def limited(self, payload: P) -> Iterable[Part]:
        """``decode.py``: the parts of ``payload`` the payload limits apply to, in the order
        they are checked (which properties are counted; where strings are checked)."""
        ...

    def to_canonical(self, store_id: int, payload: P, request: Request) -> CanonicalEvent:
        """``mapping.py``: the canonical event (identity hints in the format's priority,
        profile patch, properties…). ``request`` carries validated path parameters."""
        ...

    def answer(
        self,
        request: Request,
        payload: P,
        event: CanonicalEvent,
        outcome: IngestResult | AppError,
        headers: Mapping[str, str] | None,
    ) -> Response | Awaitable[Response]:
        """``answers.py``: the success answer for one event, carrying ``headers`` (the
        store's ``X-RateLimit-*`` quota), or raise the format's error for an ``outcome``
        that is an error (an unknown contact id…). May be a coroutine when the answer needs
        a read (Voucherify answers with the customer as stored)."""
        ...

    def render_error(self, request: Request, exc: AppError) -> Response:
        """``errors.py``: any error of this format's routes, in its documented shape."""
        ...


class BatchAdapter(Adapter[P], Protocol[P]):
    """A format that also takes many events in one request; each succeeds or fails alone."""

    def decode_batch(self, body: bytes, max_events: int) -> list[Any]:
        """``decode.py``: the request's events, undecoded (at most ``max_events``)."""
        ...

    def decode_item(self, item: Any) -> P:
        """``decode.py``: one event of :meth:`decode_batch`, as :meth:`decode` would."""
        ...

    def answer_batch(
        self, request: Request, items: list[Item[P]], headers: Mapping[str, str] | None
    ) -> Response:
        """``answers.py``: the answer listing every event's outcome, in request order."""
        ...


def quota_headers(request: Request) -> Mapping[str, str] | None:
    """The ``X-RateLimit-*`` headers of the quota the credential dependency charged."""
    quota: Quota | None = getattr(request.state, "quota", None)
    return quota.headers() if quota is not None else None


class Pipeline(Generic[P]):
    """Runs an adapter's requests. Built once per adapter, at import."""

    def __init__(self, adapter: Adapter[P], body_limit: int | None = None) -> None:
        self.adapter = adapter
        #: The format's own body limit in bytes, when it documents a smaller one than
        #: ``max_body_bytes`` (the lower of the two applies).
        self.body_limit = body_limit
        self._ingested = EVENTS_INGESTED.labels(wire=adapter.name)

    def max_body_bytes(self, runtime: Runtime) -> int:
        """The largest body this pipeline reads (after inflating a gzip body)."""
        limit = runtime.settings.max_body_bytes
        return limit if self.body_limit is None else min(limit, self.body_limit)

    async def read(self, request: Request, runtime: Runtime) -> bytes:
        """The request body within :meth:`max_body_bytes`, for an endpoint that needs it
        before the pipeline runs (a credential carried in the body) and passes it on."""
        return await read_body(request, self.max_body_bytes(runtime))

    async def one(
        self, request: Request, runtime: Runtime, store: StoreContext, body: bytes | None = None
    ) -> Response:
        """One event: decode, limits, map, ingest, count, answer. ``body`` is the body
        already read by :meth:`read`, if the endpoint had to."""
        adapter = self.adapter
        settings = runtime.settings
        if body is None:
            body = await read_body(request, self.max_body_bytes(runtime))
        payload = adapter.decode(body)
        limits = settings.max_properties, settings.max_string_bytes, settings.max_json_depth
        for part in adapter.limited(payload):
            check_limits(part, *limits)
        event = adapter.to_canonical(store.store_id, payload, request)
        event.wire = adapter.name
        (outcome,) = await ingest(runtime, [event])
        if isinstance(outcome, IngestResult) and _stored(outcome):
            self._ingested.inc()
        answer = adapter.answer(request, payload, event, outcome, quota_headers(request))
        return answer if isinstance(answer, Response) else await answer

    async def many(
        self, request: Request, runtime: Runtime, store: StoreContext, body: bytes | None = None
    ) -> Response:
        """Many events: each is decoded, checked, mapped and stored on its own."""
        adapter = cast(BatchAdapter[P], self.adapter)
        settings = runtime.settings
        if body is None:
            body = await read_body(request, self.max_body_bytes(runtime))
        limits = settings.max_properties, settings.max_string_bytes, settings.max_json_depth
        items: list[Item[P] | None] = []
        valid: list[tuple[int, P, CanonicalEvent]] = []
        for index, raw in enumerate(adapter.decode_batch(body, settings.max_batch_events)):
            payload: P | None = None
            try:
                payload = adapter.decode_item(raw)
                for part in adapter.limited(payload):
                    check_limits(part, *limits)
                event = adapter.to_canonical(store.store_id, payload, request)
                event.wire = adapter.name
            except AppError as exc:
                items.append(Item(index, payload, None, exc))
            else:
                items.append(None)  # filled in from the ingest outcome below
                valid.append((index, payload, event))
        outcomes = await ingest(runtime, [event for _, _, event in valid]) if valid else []
        stored = 0
        for (index, payload, event), outcome in zip(valid, outcomes, strict=True):
            items[index] = Item(index, payload, event, outcome)
            if isinstance(outcome, IngestResult) and _stored(outcome):
                stored += 1
        if stored:
            self._ingested.inc(stored)
        done = [item for item in items if item is not None]
        return adapter.answer_batch(request, done, quota_headers(request))


def _stored(result: IngestResult) -> bool:
    """The metric's one rule: an event counts when this request stored it (not a test
    event, not a duplicate of an earlier dedup key)."""
    return result.event_id is not None and not result.duplicate
