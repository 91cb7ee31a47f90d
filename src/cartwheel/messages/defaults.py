"""The transactional messages Cartwheel ships: a store overrides one by creating a template
with its ``key`` (``POST /v1/templates`` with ``"key": "order_status"``)."""

from __future__ import annotations

from dataclasses import dataclass

MEMBER_PASSWORD_RESET = "member_password_reset"
ORDER_DIGITAL_CONTENT = "order_digital_content"
ORDER_STATUS = "order_status"


@dataclass(frozen=True, slots=True)
class DefaultTemplate:
    key: str
    name: str
    channel: str
    subject: str
    body: str


_STYLE = (
    "<style>body{font-family:Helvetica,Arial,sans-serif;color:#222}"
    "a.button{background:#222;color:#fff;padding:10px 16px;text-decoration:none}</style>"
)

DEFAULTS: dict[str, DefaultTemplate] = {
    MEMBER_PASSWORD_RESET: DefaultTemplate(
        MEMBER_PASSWORD_RESET,
        "Member password reset",
        "email",
        "Set your password for {{ store.name }}",
        _STYLE + "<p>Hello {{ member.name }},</p>"
        "<p>An account was created for you at {{ store.name }}. Choose your password here "
        "(the link works once, until {{ reset_expires_at }}):</p>"
        '<p><a class="button" href="{{ reset_url }}">Set my password</a></p>',
    ),
    ORDER_DIGITAL_CONTENT: DefaultTemplate(
        ORDER_DIGITAL_CONTENT,
        "Digital content of an order",
        "email",
        "Your downloads for order {{ order.invoiceNo }}",
        _STYLE + "<p>Hello {{ contact.firstName | default: order.customerName }},</p>"
        "<p>Thank you for your order {{ order.invoiceNo }}. Your digital content:</p><ul>"
        "{% for line in order.lines %}{% if line.type == 'digital' %}"
        '<li><a href="{{ line.url }}">{{ line.name }}</a></li>'
        "{% endif %}{% endfor %}</ul>",
    ),
    ORDER_STATUS: DefaultTemplate(
        ORDER_STATUS,
        "Order status update",
        "email",
        "Order {{ order.invoiceNo }}: {{ order.status }}",
        _STYLE + "<p>Hello {{ contact.firstName | default: order.customerName }},</p>"
        "<p>Your order {{ order.invoiceNo }} is now <strong>{{ order.status }}</strong>.</p>"
        "<table>{% for line in order.lines %}<tr><td>{{ line.quantity }} ×</td>"
        "<td>{{ line.name }}</td><td>{{ line.total }} {{ order.currency }}</td></tr>"
        "{% endfor %}</table><p>Total: {{ order.total }} {{ order.currency }}</p>",
    ),
}
