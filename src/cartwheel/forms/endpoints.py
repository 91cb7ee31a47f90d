"""Form submissions: the public endpoint a site form posts to (client credential, allowed
origin) and the store data API's list (secret key).

CORS for the public endpoint works as for the client-side event API: a preflight carries no
credential, so it is answered for any well-formed http(s) origin and grants nothing; the
real request's origin is checked against its credential, and only then does the answer
(success or error) carry ``Access-Control-Allow-Origin``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request, Response

from cartwheel.auth.dependencies import ClientCredentialStore, SecretKeyStore
from cartwheel.exceptions import AppError
from cartwheel.forms import service
from cartwheel.forms.schemas import SUBMIT_EXAMPLE, FormSubmission, FormSubmissionCreate
from cartwheel.kit import cors
from cartwheel.kit.errors import ERROR_RESPONSES, ErrorResponse, native_router, render_native
from cartwheel.kit.openapi import json_body
from cartwheel.kit.pagination import Page, PageParams, page_params
from cartwheel.kit.requests import JsonObject, timestamp_param, validate
from cartwheel.kit.routing import wire_router
from cartwheel.kit.session import ReadSession, WriteSession

router = native_router(prefix="/v1", tags=["form submissions"], responses=ERROR_RESPONSES)

SUBMIT_PATH = "/forms/{name}/submissions"
ALLOWED_HEADERS = "Content-Type, X-Client-Application-Id, X-Client-Token"


def _allow_origin(request: Request, response: Response) -> Response:
    # The quota is set once the credential is valid and the origin one of its own.
    origin = request.headers.get("origin")
    if origin and hasattr(request.state, "quota"):
        response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Vary"] = "Origin"
    return response


def render_public(request: Request, exc: AppError) -> Response:
    """The native error shape, readable by the page when its origin was allowed."""
    return _allow_origin(request, render_native(request, exc))


public = wire_router(render_public)


# `from` is a Python keyword: the parameter is `from_` with an alias.
@dataclass(frozen=True, slots=True)
class ReceivedRange:
    received_from: datetime | None
    received_to: datetime | None


def received_range(
    from_: Annotated[
        str | None,
        Query(
            alias="from",
            description="List only form submissions created after this Unix timestamp "
            "(seconds, inclusive). Example: 1573251649.",
        ),
    ] = None,
    to: Annotated[
        str | None,
        Query(
            description="List only form submissions created before this Unix timestamp "
            "(seconds, inclusive). Example: 1573251649.",
        ),
    ] = None,
) -> ReceivedRange:
    return ReceivedRange(timestamp_param("from", from_), timestamp_param("to", to))


@router.get("/form-submissions", response_model=Page[FormSubmission])
def list_submissions(
    store: SecretKeyStore,
    session: ReadSession,
    page: Annotated[PageParams, Depends(page_params)],
    received: Annotated[ReceivedRange, Depends(received_range)],
) -> Page[FormSubmission]:
    """Get a paginated list of all form submissions in the website."""
    items, total = service.list_submissions(
        session,
        store.store_id,
        page,
        received_from=received.received_from,
        received_to=received.received_to,
    )
    return Page(items=items, totalCount=total, limit=page.limit, skip=page.skip)


@public.post(
    SUBMIT_PATH,
    response_model=FormSubmission,
    status_code=201,
    responses=ERROR_RESPONSES
    | {403: {"model": ErrorResponse, "description": "The origin is not allowed"}},
    openapi_extra=json_body(
        FormSubmissionCreate,
        examples={"contact-form": {"summary": "A contact form", "value": SUBMIT_EXAMPLE}},
    ),
)
def submit_form(
    name: Annotated[str, Path(description="The form's name, e.g. `Contact form`.")],
    store: ClientCredentialStore,
    body: JsonObject,
    session: WriteSession,
    request: Request,
    response: Response,
    origin: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> FormSubmission:
    """Submit a site form (public client credential headers, from an allowed origin). Its
    `email` field creates or updates that contact; the store's `form_submitted` webhooks
    fire."""
    data = validate(FormSubmissionCreate, body)
    submission = service.submit(session, store.store_id, name, data, origin=origin)
    _allow_origin(request, response)
    return submission


@public.options(
    SUBMIT_PATH,
    status_code=204,
    response_class=Response,
    responses={
        204: {"description": "The CORS preflight is answered."},
        403: {"model": ErrorResponse, "description": "No usable `Origin`, or not a POST."},
    },
    summary="CORS preflight",
)
def preflight(
    origin: Annotated[str | None, Header(description="The page's origin.")] = None,
    access_control_request_method: Annotated[
        str | None, Header(description="The method of the real request: `POST`.")
    ] = None,
) -> Response:
    """Answer a browser's CORS preflight for any well-formed http(s) origin; it reveals and
    grants nothing (the real request's origin is checked against its credential)."""
    return cors.preflight(origin, access_control_request_method, ALLOWED_HEADERS)


router.include_router(public)
