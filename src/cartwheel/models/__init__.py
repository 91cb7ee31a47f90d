"""Every ORM table, imported here so the metadata (and Alembic) sees them all."""

from cartwheel.models.api_key import ApiKey
from cartwheel.models.audit_entry import AuditEntry
from cartwheel.models.base import Base
from cartwheel.models.booking import Booking
from cartwheel.models.campaign import Campaign
from cartwheel.models.cart import Cart
from cartwheel.models.category import Category
from cartwheel.models.client_credential import ClientCredential
from cartwheel.models.contact import Contact
from cartwheel.models.contact_consent import ContactConsent
from cartwheel.models.contact_identifier import ContactIdentifier
from cartwheel.models.contact_merge import ContactMerge
from cartwheel.models.customer_subscription import CustomerSubscription
from cartwheel.models.event import Event
from cartwheel.models.event_minute import EventMinute
from cartwheel.models.flow import Flow
from cartwheel.models.flow_run import FlowRun
from cartwheel.models.flow_run_step import FlowRunStep
from cartwheel.models.flow_version import FlowVersion
from cartwheel.models.form_submission import FormSubmission
from cartwheel.models.identity_conflict import IdentityConflict
from cartwheel.models.login_attempt import LoginAttempt
from cartwheel.models.member import Member
from cartwheel.models.member_group import MemberGroup
from cartwheel.models.member_group_member import MemberGroupMember
from cartwheel.models.member_password_reset import MemberPasswordReset
from cartwheel.models.member_sso_key import MemberSsoKey
from cartwheel.models.member_sso_token import MemberSsoToken
from cartwheel.models.message import Message
from cartwheel.models.message_attempt import MessageAttempt
from cartwheel.models.message_sender import MessageSender
from cartwheel.models.message_template import MessageTemplate
from cartwheel.models.operator import Operator
from cartwheel.models.operator_grant import OperatorGrant
from cartwheel.models.operator_session import OperatorSession
from cartwheel.models.order import Order
from cartwheel.models.order_item import OrderItem
from cartwheel.models.outbox_message import OutboxMessage
from cartwheel.models.pending_event import PendingEvent
from cartwheel.models.product import Product
from cartwheel.models.product_category import ProductCategory
from cartwheel.models.queue_failure import QueueFailure
from cartwheel.models.segment import Segment
from cartwheel.models.segment_check import SegmentCheck
from cartwheel.models.segment_day import SegmentDay
from cartwheel.models.segment_membership import SegmentMembership
from cartwheel.models.store import Store
from cartwheel.models.subscriber_list import SubscriberList
from cartwheel.models.subscriber_list_contact import SubscriberListContact
from cartwheel.models.suppression import Suppression
from cartwheel.models.webhook_attempt import WebhookAttempt
from cartwheel.models.webhook_delivery import WebhookDelivery
from cartwheel.models.webhook_subscription import WebhookSubscription

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Base",
    "Booking",
    "Campaign",
    "Cart",
    "Category",
    "ClientCredential",
    "Contact",
    "ContactConsent",
    "ContactIdentifier",
    "ContactMerge",
    "CustomerSubscription",
    "Event",
    "EventMinute",
    "Flow",
    "FlowRun",
    "FlowRunStep",
    "FlowVersion",
    "FormSubmission",
    "IdentityConflict",
    "LoginAttempt",
    "Member",
    "MemberGroup",
    "MemberGroupMember",
    "MemberPasswordReset",
    "MemberSsoKey",
    "MemberSsoToken",
    "Message",
    "MessageAttempt",
    "MessageSender",
    "MessageTemplate",
    "Operator",
    "OperatorGrant",
    "OperatorSession",
    "Order",
    "OrderItem",
    "OutboxMessage",
    "PendingEvent",
    "Product",
    "ProductCategory",
    "QueueFailure",
    "Segment",
    "SegmentCheck",
    "SegmentDay",
    "SegmentMembership",
    "Store",
    "SubscriberList",
    "SubscriberListContact",
    "Suppression",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
]
