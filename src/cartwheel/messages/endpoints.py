"""The messaging API (secret key): templates, messages, suppressions, the store's sender."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Response
from pydantic import BaseModel

from cartwheel.auth.dependencies import SecretKeyStore
from cartwheel.exceptions import BadRequest, NotFound
from cartwheel.kit.errors import ERROR_RESPONSES, ErrorResponse, native_router
from cartwheel.kit.ids import MAX_ID
from cartwheel.kit.openapi import json_body
from cartwheel.kit.pagination import Page, PageParams, page_params
from cartwheel.kit.requests import JsonObject, int_param, text_param, validate
from cartwheel.kit.session import ReadSession, WriteSession
from cartwheel.messages import campaigns, consent, log, schemas, senders, service, templates
from cartwheel.messages.schemas import (
    Campaign,
    CampaignCreate,
    Message,
    MessageDetail,
    RenderRequest,
    RenderResult,
    SenderSettings,
    Suppression,
    SuppressionCreate,
    Template,
    TemplateCreate,
    TemplateUpdate,
)

router = native_router(prefix="/v1", tags=["messages"], responses=ERROR_RESPONSES)
Pages = Annotated[PageParams, Depends(page_params)]
CONFLICT = {409: {"model": ErrorResponse, "description": "The key already has a template"}}


def _page_of(model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """The 200 response of a list endpoint, with an example page of one ``model``."""
    [item, *_] = model.model_json_schema()["examples"]
    page = {"items": [item], "totalCount": 1, "limit": 50, "skip": 0}
    return {200: {"content": {"application/json": {"example": page}}}}


def _id(raw: str, what: str) -> int:
    """A path id: ASCII digits naming a possible row, else a 404 (never a query)."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10 or not 0 < int(raw) <= MAX_ID:
        raise NotFound(f"{what} not found.")
    return int(raw)


@router.get("/templates", response_model=Page[Template], responses=_page_of(Template))
def list_templates(store: SecretKeyStore, session: ReadSession, page: Pages) -> Page[Template]:
    """The store's templates, oldest first."""
    items, total = templates.list_templates(session, store.store_id, page)
    return Page(items=items, totalCount=total, limit=page.limit, skip=page.skip)


@router.post(
    "/templates",
    response_model=Template,
    status_code=201,
    responses=CONFLICT,
    openapi_extra=json_body(
        TemplateCreate,
        examples={
            "email": {"summary": "An email", "value": schemas.TEMPLATE_REQUEST_EXAMPLE},
            "sms": {
                "summary": "An SMS",
                "value": {
                    "name": "Cart reminder",
                    "channel": "sms",
                    "text": "{{ contact.firstName }}, your cart is waiting: {{ cart.url }}",
                },
            },
            "override": {
                "summary": "The store's own order status email",
                "value": {
                    "name": "Order status",
                    "channel": "email",
                    "key": "order_status",
                    "subject": "Order {{ order.invoiceNo }} is {{ order.status }}",
                    "html": "<p>Thanks, {{ contact.firstName }}!</p>",
                },
            },
        },
    ),
)
def create_template(store: SecretKeyStore, body: JsonObject, session: WriteSession) -> Template:
    """Create a Liquid template. A template that does not parse, or names a variable no
    message can have, is a 422 naming the part, line and column."""
    return templates.create(session, store.store_id, validate(TemplateCreate, body))


@router.get("/templates/{template_id}", response_model=Template)
def get_template(template_id: str, store: SecretKeyStore, session: ReadSession) -> Template:
    """One template."""
    return templates.view(templates.get(session, store.store_id, _id(template_id, "Template")))


@router.put(
    "/templates/{template_id}",
    response_model=Template,
    openapi_extra=json_body(
        TemplateUpdate,
        examples={
            "subject": {
                "summary": "New subject",
                "value": {"subject": "Hi {{ contact.firstName }}"},
            }
        },
    ),
)
def update_template(
    template_id: str, store: SecretKeyStore, body: JsonObject, session: WriteSession
) -> Template:
    """Change a template; messages already rendered keep their content."""
    data = validate(TemplateUpdate, body)
    return templates.update(session, store.store_id, _id(template_id, "Template"), data)


@router.delete("/templates/{template_id}", status_code=204, response_class=Response)
def delete_template(template_id: str, store: SecretKeyStore, session: WriteSession) -> Response:
    """Delete a template (messages sent from it keep their content)."""
    templates.delete(session, store.store_id, _id(template_id, "Template"))
    return Response(status_code=204)


@router.post(
    "/templates/{template_id}/render",
    response_model=RenderResult,
    openapi_extra=json_body(
        RenderRequest,
        required=False,
        examples={
            "contact": {
                "summary": "For a contact and an order",
                "value": {"contactId": 123, "orderId": 1001},
            },
            "sample": {"summary": "With sample data", "value": {}},
        },
    ),
)
def render_template(
    template_id: str, store: SecretKeyStore, body: JsonObject, session: ReadSession
) -> RenderResult:
    """Render a template for preview: with a contact of the store (and optionally an event,
    an order or a cart), or with sample data. Nothing is sent."""
    data = validate(RenderRequest, body)
    return templates.preview(session, store.store_id, _id(template_id, "Template"), data)


@router.get("/messages", response_model=Page[Message], responses=_page_of(Message))
def list_messages(
    store: SecretKeyStore,
    session: ReadSession,
    page: Pages,
    contact_id: str | None = Query(default=None, alias="contactId", description="A contact."),
    template_id: str | None = Query(default=None, alias="templateId", description="A template."),
    campaign_id: str | None = Query(default=None, alias="campaignId", description="A campaign."),
    status: str | None = Query(
        default=None, description="queued, sending, sent, failed, bounced or skipped."
    ),
) -> Page[Message]:
    """The store's messages, newest first."""
    status = text_param("status", status)
    if status is not None and status not in service.STATUSES:
        raise BadRequest(f"The status parameter must be one of {', '.join(service.STATUSES)}.")
    items, total = log.list_messages(
        session,
        store.store_id,
        page,
        contact_id=int_param("contactId", contact_id),
        template_id=int_param("templateId", template_id),
        campaign_id=int_param("campaignId", campaign_id),
        status=status,
    )
    return Page(items=items, totalCount=total, limit=page.limit, skip=page.skip)


@router.get("/messages/{message_id}", response_model=MessageDetail)
def get_message(message_id: str, store: SecretKeyStore, session: ReadSession) -> MessageDetail:
    """One message with its rendered content and every try."""
    return log.read_message(session, store.store_id, _id(message_id, "Message"))


@router.get("/suppressions", response_model=Page[Suppression], responses=_page_of(Suppression))
def list_suppressions(
    store: SecretKeyStore,
    session: ReadSession,
    page: Pages,
    channel: str | None = Query(default=None, description="email or sms."),
    address: str | None = Query(default=None, description="One address."),
) -> Page[Suppression]:
    """The store's suppressed addresses, oldest first."""
    channel = text_param("channel", channel)
    if channel is not None and channel not in service.CHANNELS:
        raise BadRequest("The channel parameter must be email or sms.")
    address = text_param("address", address)
    items, total = consent.list_suppressions(session, store.store_id, page, channel, address)
    return Page(items=items, totalCount=total, limit=page.limit, skip=page.skip)


@router.post(
    "/suppressions",
    response_model=Suppression,
    status_code=201,
    openapi_extra=json_body(
        SuppressionCreate,
        examples={
            "manual": {
                "summary": "Suppress an address",
                "value": {"channel": "email", "address": "ann@example.com"},
            }
        },
    ),
)
def add_suppression(store: SecretKeyStore, body: JsonObject, session: WriteSession) -> Suppression:
    """Suppress an address: nothing is sent to it any more, transactional messages
    included. Suppressing it again answers the existing entry."""
    return consent.add_suppression(session, store.store_id, validate(SuppressionCreate, body))


@router.delete("/suppressions/{suppression_id}", status_code=204, response_class=Response)
def remove_suppression(
    suppression_id: str, store: SecretKeyStore, session: WriteSession
) -> Response:
    """Take an address off the suppression list."""
    consent.remove_suppression(session, store.store_id, _id(suppression_id, "Suppression"))
    return Response(status_code=204)


@router.get("/messaging/sender", response_model=SenderSettings)
def get_sender(store: SecretKeyStore, session: ReadSession) -> SenderSettings:
    """The store's sender (null fields use the server's defaults)."""
    return senders.read(session, store.store_id)


@router.put(
    "/messaging/sender",
    response_model=SenderSettings,
    openapi_extra=json_body(
        SenderSettings,
        examples={
            "sender": {
                "summary": "From and reply-to",
                "value": {
                    "fromEmail": "shop@example.com",
                    "fromName": "Example Shop",
                    "replyTo": "help@example.com",
                },
            }
        },
    ),
)
def put_sender(store: SecretKeyStore, body: JsonObject, session: WriteSession) -> SenderSettings:
    """Set the store's sender: from address and name, reply-to, SMS number."""
    return senders.write(session, store.store_id, validate(SenderSettings, body))


@router.get("/campaigns", response_model=Page[Campaign], responses=_page_of(Campaign))
def list_campaigns(store: SecretKeyStore, session: ReadSession, page: Pages) -> Page[Campaign]:
    """The store's campaigns, oldest first, with what happened to their messages."""
    items, total = campaigns.list_campaigns(session, store.store_id, page)
    return Page(items=items, totalCount=total, limit=page.limit, skip=page.skip)


@router.post(
    "/campaigns",
    response_model=Campaign,
    status_code=201,
    openapi_extra=json_body(
        CampaignCreate,
        examples={
            "list": {"summary": "To a list, at a time", "value": schemas.CAMPAIGN_REQUEST_EXAMPLE},
            "segment": {
                "summary": "To a segment, now",
                "value": {"name": "Win-back", "templateId": 4, "segmentId": 7},
            },
        },
    ),
)
def create_campaign(store: SecretKeyStore, body: JsonObject, session: WriteSession) -> Campaign:
    """Send a template to a subscriber list or a segment, now or at `sendAt`: one message
    per recipient, consent and suppression respected, at most `ratePerSecond`."""
    return campaigns.create(session, store.store_id, validate(CampaignCreate, body))


@router.get("/campaigns/{campaign_id}", response_model=Campaign)
def get_campaign(campaign_id: str, store: SecretKeyStore, session: ReadSession) -> Campaign:
    """One campaign: sent, delivered, opened, clicked, unsubscribed, bounced."""
    return campaigns.get(session, store.store_id, _id(campaign_id, "Campaign"))
