"""Form submissions: the public endpoint a site form posts to (client credential, allowed
origin) and the store data API's list (secret key)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Path, Query

from cartwheel.auth.dependencies import ClientCredentialStore, SecretKeyStore
from cartwheel.contacts.requests import JsonObject, timestamp_param, validate
from cartwheel.forms import service
from cartwheel.forms.schemas import SUBMIT_EXAMPLE, FormSubmission, FormSubmissionCreate
from cartwheel.kit.errors import ERROR_RESPONSES, ErrorResponse, native_router
from cartwheel.kit.openapi import json_body
from cartwheel.kit.pagination import Page, PageParams, page_params
from cartwheel.kit.session import ReadSession, WriteSession

router = native_router(prefix="/v1", tags=["form submissions"], responses=ERROR_RESPONSES)


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


@router.post(
    "/forms/{name}/submissions",
    response_model=FormSubmission,
    status_code=201,
    responses={403: {"model": ErrorResponse, "description": "The origin is not allowed"}},
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
    origin: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> FormSubmission:
    """Submit a site form (public client credential headers, from an allowed origin). Its
    `email` field creates or updates that contact; the store's `form_submitted` webhooks
    fire."""
    data = validate(FormSubmissionCreate, body)
    return service.submit(session, store.store_id, name, data, origin=origin)
