"""The store's sender (from address and name, reply-to, SMS number): API and CLI."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cartwheel.exceptions import ValidationFailed
from cartwheel.identity.addresses import is_valid_email, normalize_email, normalize_phone
from cartwheel.messages.schemas import SenderSettings
from cartwheel.models import MessageSender
from cartwheel.models.base import utcnow


def read(session: Session, store_id: int) -> SenderSettings:
    row = session.get(MessageSender, store_id)
    if row is None:
        return SenderSettings()
    return SenderSettings(
        fromEmail=row.from_email, fromName=row.from_name, replyTo=row.reply_to, smsFrom=row.sms_from
    )


def write(session: Session, store_id: int, data: SenderSettings) -> SenderSettings:
    errors = {
        field: ["The address is not an email address."]
        for field, value in (("fromEmail", data.fromEmail), ("replyTo", data.replyTo))
        if value is not None and not is_valid_email(normalize_email(value) or "")
    }
    sms_from = normalize_phone(data.smsFrom) if data.smsFrom is not None else None
    if data.smsFrom is not None and sms_from is None:
        errors["smsFrom"] = ["The number is not a phone number."]
    if errors:
        raise ValidationFailed(errors)
    row = session.get(MessageSender, store_id)
    if row is None:
        row = MessageSender(store_id=store_id)
        session.add(row)
    row.from_email = data.fromEmail
    row.from_name = data.fromName
    row.reply_to = data.replyTo
    row.sms_from = sms_from
    row.updated_at = utcnow()
    session.flush()
    return read(session, store_id)
