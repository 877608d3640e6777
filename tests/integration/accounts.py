"""Builders for integration tests that need a signed-in user: register, activate with the emailed code, log in."""

import base64
import json
import re
from dataclasses import dataclass

from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

PUBLIC_KEY = "test-public-key"
PRIVATE_KEY = "test-private-key"
JSON = {"Content-Type": "application/json"}


@dataclass
class SignedIn:
    id: str
    email: str
    password: str
    token: str

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def last_code_sent_to(email: str) -> str:
    messages = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    mine = [message for message in messages if email in message.destinations.get("ToAddresses", [])]
    found = re.search(r"\b(\d{6})\b", mine[-1].body)
    assert found, "no code in the last email"
    return found.group(1)


def signed_in_user(call_api, email: str = "ada@example.com", password: str = "analytical-engine") -> SignedIn:
    body = {"first_name": "Ada", "last_name": "Lovelace", "email": email, "password": password}
    registered = call_api(
        "POST", "/api/v1/auth/register", headers={**JSON, "Authorization": PUBLIC_KEY}, body=json.dumps(body)
    )
    assert registered.status == 201, registered.text
    activated = call_api(
        "POST",
        f"/api/v1/users/{email}/activate",
        headers={**JSON, "Authorization": PUBLIC_KEY},
        body=json.dumps({"code": last_code_sent_to(email)}),
    )
    assert activated.status == 200, activated.text
    basic = base64.b64encode(f"{email}:{password}".encode()).decode()
    login = call_api("POST", "/api/v1/auth/session", headers={"Authorization": f"Basic {basic}"})
    assert login.status == 200, login.text
    return SignedIn(login.json["data"]["id"], email, password, login.json["data"]["token"])
