"""Receiving and listing form submissions.

A submission and the contact it creates or updates are written in one transaction, with
``contact_updated`` (when the contact changed) and ``form_submitted`` in the outbox."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from cartwheel.contacts import service as contacts
from cartwheel.exceptions import ValidationFailed
from cartwheel.forms import repository
from cartwheel.forms.schemas import (
    FormSubmission,
    FormSubmissionCreate,
    submission_view,
    submitted_payload,
)
from cartwheel.identity.addresses import is_valid_email, normalize_email, normalize_phone
from cartwheel.kit.pagination import PageParams, paginate
from cartwheel.models import FormSubmission as SubmissionRow
from cartwheel.models.base import utcnow
from cartwheel.outbox import emit
from cartwheel.text import has_control_characters

FORM_SUBMITTED = "form_submitted"
MAX_FORM_NAME = 200

#: Field names (lower-cased, without spaces, `_` or `-`) that fill contact fields, and the
#: longest value each takes (a longer one stays in the submission only).
CONTACT_FIELDS: dict[str, tuple[str, int]] = {
    "name": ("name", 300),
    "fullname": ("name", 300),
    "firstname": ("firstName", 200),
    "lastname": ("lastName", 200),
    "phone": ("phone", 32),
    "company": ("companyName", 300),
    "companyname": ("companyName", 300),
}
_SEPARATORS = re.compile(r"[\s_\-]+")


def submit(
    session: Session,
    store_id: int,
    form_name: str,
    data: FormSubmissionCreate,
    *,
    origin: str | None,
) -> FormSubmission:
    # The name comes from the URL path, so it is checked here rather than by the schema.
    form_name = form_name.strip()
    if "\x00" in form_name:
        raise ValidationFailed({"name": ["The form name must not contain NUL characters."]})
    if has_control_characters(form_name):
        raise ValidationFailed({"name": ["The form name must not contain control characters."]})
    if not form_name or len(form_name) > MAX_FORM_NAME:
        raise ValidationFailed(
            {"name": [f"The form name must be 1 to {MAX_FORM_NAME} characters."]}
        )
    email, profile = _contact_fields(data)
    contact, shown = None, None
    if email is not None:
        contact, changed = contacts.upsert_person(session, store_id, email, profile, source="form")
        shown = (
            contacts.emit_updated(session, contact) if changed else contacts.view(session, contact)
        )
    row = SubmissionRow(
        store_id=store_id,
        contact_id=contact.id if contact else None,
        form_name=form_name,
        fields=[f.model_dump() for f in data.fields],
        origin=origin[:500] if origin else None,
        received_at=utcnow(),
    )
    session.add(row)
    session.flush()
    submission = submission_view(row)
    payload = submitted_payload(submission, store_id, origin, shown)
    emit(session, store_id, FORM_SUBMITTED, payload.model_dump(mode="json"))
    return submission


def list_submissions(
    session: Session,
    store_id: int,
    page: PageParams,
    *,
    received_from: datetime | None,
    received_to: datetime | None,
) -> tuple[list[FormSubmission], int]:
    query = repository.store_submissions(store_id)
    if received_from is not None:
        query = query.where(SubmissionRow.received_at >= received_from)
    if received_to is not None:
        query = query.where(SubmissionRow.received_at < received_to + timedelta(seconds=1))
    rows, total = paginate(session, query.order_by(SubmissionRow.id), page)
    return [submission_view(r) for r in rows], total


def _contact_field_problem(target: str, value: str) -> str | None:
    """Why a value may not be set on the contact (the same rules as the contacts API)."""
    if target == "phone":
        if value and normalize_phone(value) is None:
            return "The phone field must be a valid phone number."
    elif has_control_characters(value):
        return f"The {target} field must not contain control characters."
    return None


def _contact_fields(data: FormSubmissionCreate) -> tuple[str | None, dict[str, str]]:
    """The submission's email (validated) and the contact fields it names."""
    email: str | None = None
    profile: dict[str, str] = {}
    for index, field in enumerate(data.fields):
        key = _SEPARATORS.sub("", field.name).lower()
        if key in ("email", "emailaddress"):
            value = field.value.strip()
            if not value:
                continue
            if not is_valid_email(value):
                raise ValidationFailed(
                    {f"fields.{index}.value": ["The email field must be a valid email address."]}
                )
            email = normalize_email(value)
        elif key in CONTACT_FIELDS:
            target, longest = CONTACT_FIELDS[key]
            value = field.value.strip()
            problem = _contact_field_problem(target, value)
            if problem is not None:
                raise ValidationFailed({f"fields.{index}.value": [problem]})
            if value and len(value) <= longest:
                profile[target] = value
    return email, profile
