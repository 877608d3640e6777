"""A local stand-in for the part of Stripe that Clara uses, so a purchase works end to end without an account.

Served by the local runtime under /_stripe/ when STRIPE_SECRET_KEY is not set. The stripe library reaches it
through STRIPE_API_BASE=<runtime>/_stripe: customers, Checkout Sessions and Billing Portal sessions, form-encoded
as Stripe takes them, answered in Stripe's JSON shapes, each POST replayed for a repeated Idempotency-Key.

A session's url is a pay page on this runtime. Paying it (a form POST) marks the session paid, once, and
delivers a `checkout.session.completed` event, signed as Stripe signs webhooks, to the webhook function's
Function URL on this runtime. State lives in memory and goes with the process.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import logging
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable
from typing import Any

from werkzeug.datastructures import MultiDict
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from local_runtime.template import Template

log = logging.getLogger("local_runtime")

STANDIN_PREFIX = "/_stripe"
DEVELOPMENT_WEBHOOK_SECRET = "whsec_local_development"  # noqa: S105 (a fixed local value, not a secret)


def webhook_function_id(template: Template) -> str | None:
    """The function Stripe's events go to: the Function URL function whose code is functions/stripe_webhook/."""
    found = (
        function_id
        for function_id, function in template.functions.items()
        if function.has_function_url and function.code_uri.name == "stripe_webhook"
    )
    return next(found, None)


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header value for `payload`: t=<unix time>,v1=HMAC-SHA256(secret, "<t>.<payload>")."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _nested(form: MultiDict[str, str]) -> dict[str, Any]:
    """Stripe's form encoding (`line_items[0][price_data][unit_amount]=500`) as nested dicts and lists."""
    root: dict[str, Any] = {}
    for name, value in form.items(multi=True):
        *parents, leaf = name.replace("]", "").split("[")
        node: dict[str, Any] = root
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return _lists(root)


def _lists(node: Any) -> Any:
    """Dicts keyed "0", "1", ... (from `[0]` indices) become lists, in index order."""
    if not isinstance(node, dict):
        return node
    if node and all(key.isdigit() for key in node):
        return [_lists(node[key]) for key in sorted(node, key=int)]
    return {key: _lists(value) for key, value in node.items()}


def _stripe_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, content_type="application/json")


def _error(message: str, status: int = 400) -> Response:
    return _json({"error": {"type": "invalid_request_error", "message": message}}, status)


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}}
.box{{border:1px solid #ccc;border-radius:8px;padding:1.5rem}}button{{font-size:1.1rem;padding:.6rem 1.4rem}}
.note{{color:#666;font-size:.85rem}}</style></head>
<body><div class="box">{content}</div>
<p class="note">Clara local Stripe stand-in: no real payment is made.</p></body></html>"""


def _page(title: str, content: str, status: int = 200) -> Response:
    return Response(_PAGE.format(title=html.escape(title), content=content), status=status, content_type="text/html")


class StripeStandIn:
    """The WSGI app; `webhook_path` is where paid sessions are reported on the runtime (None: nowhere)."""

    def __init__(self, webhook_secret: str, webhook_path: str | None):
        self.webhook_secret = webhook_secret
        self.webhook_path = webhook_path
        self.customers: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.portal_sessions: dict[str, dict[str, Any]] = {}
        self.idempotent: dict[tuple[str, str], Response] = {}
        self.lock = threading.Lock()  # one request at a time changes state (the runtime's server is threaded)
        self.urls = Map(
            [
                Rule("/v1/customers", methods=["POST"], endpoint="create_customer"),
                Rule("/v1/checkout/sessions", methods=["POST"], endpoint="create_session"),
                Rule("/v1/checkout/sessions/<session_id>", methods=["GET"], endpoint="get_session"),
                Rule("/v1/billing_portal/sessions", methods=["POST"], endpoint="create_portal_session"),
                Rule("/pay/<session_id>", methods=["GET", "POST"], endpoint="pay"),
                Rule("/portal/<portal_id>", methods=["GET"], endpoint="portal"),
            ]
        )

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        adapter = self.urls.bind_to_environ(environ)
        try:
            endpoint, arguments = adapter.match()
        except Exception:
            return _error(f"Unrecognized request URL ({request.method}: {request.path}).", 404)(environ, start_response)
        key = request.headers.get("Idempotency-Key")
        if key and len(key) > 255:  # as Stripe refuses them
            return _error("Idempotency-Key must be at most 255 characters.")(environ, start_response)
        with self.lock:
            if request.method == "POST" and key and (endpoint, key) in self.idempotent:
                response = self.idempotent[(endpoint, key)]
            else:
                response = getattr(self, endpoint)(request, **arguments)
                if request.method == "POST" and key and endpoint.startswith("create_"):
                    self.idempotent[(endpoint, key)] = response
        if endpoint == "pay" and request.method == "POST" and response.status_code == 303:
            self._deliver_paid(request, arguments["session_id"])
        log.info("stripe stand-in: %s %s %d", request.method, request.path, response.status_code)
        return response(environ, start_response)

    # ---------------------------------------------------------------------------------- the Stripe API

    def _base(self, request: Request) -> str:
        """This stand-in's public base as the caller reached it (http://host:port/_stripe in the runtime)."""
        return request.host_url.rstrip("/") + request.script_root

    def create_customer(self, request: Request) -> Response:
        params = _nested(request.form)
        customer = {
            "id": _stripe_id("cus"),
            "object": "customer",
            "created": int(time.time()),
            "email": params.get("email"),
            "name": params.get("name"),
            "metadata": params.get("metadata", {}),
            "livemode": False,
        }
        self.customers[customer["id"]] = customer
        return _json(customer)

    def create_session(self, request: Request) -> Response:
        params = _nested(request.form)
        if params.get("mode") != "payment":
            return _error("The stand-in supports mode=payment only.")
        customer = params.get("customer")
        if customer and customer not in self.customers:
            return _error(f"No such customer: '{customer}'", 400)
        try:
            items = params["line_items"]
            amount_total = sum(int(item["price_data"]["unit_amount"]) * int(item.get("quantity", 1)) for item in items)
        except (KeyError, TypeError, ValueError):
            return _error("line_items with price_data[unit_amount] are required.")
        session_id = _stripe_id("cs_test")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "created": int(time.time()),
            "mode": "payment",
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": amount_total,
            "currency": items[0]["price_data"].get("currency", "usd"),
            "customer": customer,
            "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata", {}),
            "success_url": params.get("success_url"),
            "cancel_url": params.get("cancel_url"),
            "payment_intent": None,
            "livemode": False,
            "url": f"{self._base(request)}/pay/{session_id}",
            # Kept for the pay page; Stripe's session object does not carry line items inline.
            "_product": items[0]["price_data"].get("product_data", {}).get("name", "Clara credits"),
        }
        self.sessions[session_id] = session
        return _json(self._public(session))

    def get_session(self, request: Request, session_id: str) -> Response:
        session = self.sessions.get(session_id)
        if session is None:
            return _error(f"No such checkout.session: '{session_id}'", 404)
        return _json(self._public(session))

    def create_portal_session(self, request: Request) -> Response:
        params = _nested(request.form)
        if params.get("customer") not in self.customers:
            return _error(f"No such customer: '{params.get('customer')}'")
        portal_id = _stripe_id("bps")
        portal = {
            "id": portal_id,
            "object": "billing_portal.session",
            "created": int(time.time()),
            "customer": params["customer"],
            "return_url": params.get("return_url"),
            "livemode": False,
            "url": f"{self._base(request)}/portal/{portal_id}",
        }
        self.portal_sessions[portal_id] = portal
        return _json(portal)

    @staticmethod
    def _public(session: dict[str, Any]) -> dict[str, Any]:
        return {name: value for name, value in session.items() if not name.startswith("_")}

    # ---------------------------------------------------------------------------------- the browser pages

    def pay(self, request: Request, session_id: str) -> Response:
        session = self.sessions.get(session_id)
        if session is None:
            return _page("Not found", "<h1>No such checkout session</h1>", 404)
        amount = f"${session['amount_total'] / 100:,.2f}"
        if request.method == "GET":
            if session["payment_status"] == "paid":
                return self._paid_page(session)
            return _page(
                "Pay Clara",
                f"<h1>{html.escape(session['_product'])}</h1><p>Total: <strong>{amount}</strong> "
                f"({html.escape(session['currency'].upper())})</p>"
                f'<form method="post"><button type="submit">Pay {amount}</button></form>'
                f'<p><a href="{html.escape(session["cancel_url"] or "#")}">Cancel</a></p>',
            )
        if session["payment_status"] == "paid":  # paying twice pays (and reports) nothing more
            return self._paid_page(session)
        session.update(status="complete", payment_status="paid", payment_intent=_stripe_id("pi"))
        # POST, redirect, GET: the page then shows "Payment complete" (__call__ delivers the webhook first).
        return Response(status=303, headers={"Location": request.url})

    def _paid_page(self, session: dict[str, Any]) -> Response:
        back = session.get("success_url")
        link = f'<p><a href="{html.escape(back)}">Back to Clara</a></p>' if back else ""
        return _page("Payment complete", f"<h1>Payment complete</h1><p>{html.escape(session['_product'])}</p>{link}")

    def portal(self, request: Request, portal_id: str) -> Response:
        portal = self.portal_sessions.get(portal_id)
        if portal is None:
            return _page("Not found", "<h1>No such portal session</h1>", 404)
        customer = self.customers[portal["customer"]]
        back = portal.get("return_url") or "#"
        paid = [s for s in self.sessions.values() if s["customer"] == customer["id"] and s["payment_status"] == "paid"]
        rows = (
            "".join(f"<li>{html.escape(s['_product'])}: ${s['amount_total'] / 100:,.2f}</li>" for s in paid)
            or "<li>No payments yet.</li>"
        )
        return _page(
            "Billing",
            f"<h1>Billing for {html.escape(customer.get('email') or customer['id'])}</h1><ul>{rows}</ul>"
            f'<p><a href="{html.escape(back)}">Return</a></p>',
        )

    # ---------------------------------------------------------------------------------- the webhook

    def event_for(self, session: dict[str, Any], event_type: str = "checkout.session.completed") -> bytes:
        event = {
            "id": _stripe_id("evt"),
            "object": "event",
            "api_version": "2025-01-27.acacia",
            "created": int(time.time()),
            "type": event_type,
            "livemode": False,
            "pending_webhooks": 1,
            "data": {"object": self._public(session)},
        }
        return json.dumps(event).encode()

    def _deliver_paid(self, request: Request, session_id: str) -> None:
        """POST the signed event to the webhook function through the runtime, as Stripe would over the Internet."""
        if self.webhook_path is None:
            log.warning("stripe stand-in: no Function URL function in the template; the payment is not reported")
            return
        payload = self.event_for(self.sessions[session_id])
        delivery = urllib.request.Request(  # noqa: S310 (an http URL on this runtime)
            request.host_url.rstrip("/") + self.webhook_path,
            data=payload,
            method="POST",
            headers={"Content-Type": "application/json", "Stripe-Signature": sign(payload, self.webhook_secret)},
        )
        try:
            with urllib.request.urlopen(delivery, timeout=30) as answer:  # noqa: S310
                log.info("stripe stand-in: webhook for %s answered %d", session_id, answer.status)
        except urllib.error.HTTPError as error:
            log.error("stripe stand-in: webhook for %s answered %d: %s", session_id, error.code, error.read()[:500])
