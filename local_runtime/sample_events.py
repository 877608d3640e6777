"""`python -m local_runtime.sample_events` (`make events`): the sample events of events/, made current for the
running `make run`, written to events/local/ (not committed).

The committed events name a sample user (SAMPLE_USER_ID) and placeholder tokens, which no running API knows, and
the development API keys. This
signs the sample user up and in through the running API (registered and activated the first time, with the code
from the local mailbox; given credits with the private key when it has few), then writes each event with the
user's real id, a fresh user token and API key token in place of the placeholders, the API keys in use (the
PUBLIC_API_KEY and PRIVATE_API_KEY of `make run`, when set), a fresh address for the
registration event and a fresh Idempotency-Key, and the Stripe webhook event for a new Checkout Session, signed
now with the secret the functions read (a signature is accepted for 5 minutes: run `make events` again after that).

`prepare_sample_user` and `fresh_event` take the transport as an argument, so the in-process tests
(tests/integration/test_sam_local_invoke.py) make the user and the events the same way.
"""

from __future__ import annotations

import argparse
import base64
import email
import email.policy
import json
import os
import re
import secrets
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local_runtime.events import REGION
from local_runtime.invoke import (
    DEVELOPMENT_PARAMETERS,
    ENV_VARS_FILE,
    GENERATED_EVENTS,
    emulator_refused,
    invoke_environment,
    read_json,
)
from local_runtime.server import DEFAULT_PRIVATE_API_KEY, DEFAULT_PUBLIC_API_KEY, Settings
from local_runtime.stripe_standin import sign, webhook_function_id
from local_runtime.template import Template, load_template

# What the committed events say; auth.login.json's Basic credential is SAMPLE_EMAIL:SAMPLE_PASSWORD.
SAMPLE_USER_ID = "user_ac19b010fec5428a8ae131596731b7c8"
SAMPLE_EMAIL = "ada@example.com"
SAMPLE_PASSWORD = "analytical-engine"  # noqa: S105 (the sample user's, in the committed events)
SAMPLE_USER_TOKEN = "calzo_user_eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.invalid"  # noqa: S105
SAMPLE_API_KEY_TOKEN = "clara_api_replace-with-the-token-of-GET-users-id-api_key"  # noqa: S105
SAMPLE_WEBHOOK_ID = "webhook_3f9a1c2b4d5e6f708192a3b4c5d6e7f8"
# The sample user's webhook endpoint: loopback, which development allows; nothing needs to listen there.
SAMPLE_WEBHOOK_URL = "http://127.0.0.1:8765/clara"
ALREADY_REGISTERED = "User with the given identifier already exists."  # clara.contract.errors.AlreadyExists, a 400
# Enough for a few analyses (20 credits each by default).
MIN_CREDITS = 100

EVENTS_DIR = Path("events")
GENERATED_DIR = GENERATED_EVENTS

# (method, path under /api/v1, headers, body) -> (status, the envelope)
Request = Callable[[str, str, Mapping[str, str], bytes | None], tuple[int, dict[str, Any]]]


class SampleUserError(RuntimeError):
    pass


@dataclass(frozen=True)
class SampleUser:
    user_id: str
    user_token: str
    api_key_token: str
    webhook_id: str = SAMPLE_WEBHOOK_ID
    # The API keys of the running API, in place of the development keys the committed events carry.
    public_key: str = DEFAULT_PUBLIC_API_KEY
    private_key: str = DEFAULT_PRIVATE_API_KEY


def _basic(address: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{address}:{password}".encode()).decode()


def _json(payload: Any) -> bytes:
    return json.dumps(payload).encode()


def _expect(status: int, body: dict[str, Any], wanted: tuple[int, ...], what: str) -> dict[str, Any]:
    if status not in wanted:
        raise SampleUserError(f"{what}: {status} {body.get('message')!r}")
    return body.get("data") or {}


def prepare_sample_user(
    request: Request,
    activation_code: Callable[[str, float], str],
    *,
    public_key: str = DEFAULT_PUBLIC_API_KEY,
    private_key: str = DEFAULT_PRIVATE_API_KEY,
) -> SampleUser:
    """The sample user, active, signed in, with at least MIN_CREDITS; `activation_code(email, since)` reads the
    code of the newest email sent to `email` after the time `since`."""
    json_headers = {"Content-Type": "application/json"}
    since = time.time()
    status, body = request(
        "POST",
        "/auth/register",
        {**json_headers, "Authorization": public_key},
        _json({"first_name": "Ada", "last_name": "Lovelace", "email": SAMPLE_EMAIL, "password": SAMPLE_PASSWORD}),
    )
    is_active: bool | None
    if status == 400 and body.get("message") == ALREADY_REGISTERED:
        is_active = None  # registered before: its login says whether it is active
    else:
        is_active = bool(_expect(status, body, (201,), "register the sample user").get("is_active"))
    if is_active is None:
        status, body = request("POST", "/auth/session", {"Authorization": _basic(SAMPLE_EMAIL, SAMPLE_PASSWORD)}, None)
        is_active = bool(_expect(status, body, (200,), "log the sample user in").get("is_active"))
        if not is_active:
            since = time.time()
            status, body = request("POST", f"/users/{SAMPLE_EMAIL}/otp/ACTIVATION", {"Authorization": public_key}, None)
            _expect(status, body, (201,), "send the sample user an activation code")
    if not is_active:
        code = activation_code(SAMPLE_EMAIL, since)
        status, body = request(
            "POST",
            f"/users/{SAMPLE_EMAIL}/activate",
            {**json_headers, "Authorization": public_key},
            _json({"code": code}),
        )
        _expect(status, body, (200,), "activate the sample user")

    status, body = request("POST", "/auth/session", {"Authorization": _basic(SAMPLE_EMAIL, SAMPLE_PASSWORD)}, None)
    user = _expect(status, body, (200,), "log the sample user in")
    user_id, user_token = user["id"], user["token"]
    if float(user.get("credits") or 0) < MIN_CREDITS:
        credit = {
            "description": "Sample events.",
            "value_in_credits": MIN_CREDITS,
            "value_in_fiat": 0,
            "type": "CREDIT",
        }
        status, body = request(
            "POST",
            f"/users/{user_id}/transactions",
            {**json_headers, "Authorization": private_key, "Idempotency-Key": f"sample-{secrets.token_hex(8)}"},
            _json(credit),
        )
        _expect(status, body, (200, 201), "credit the sample user")
    status, body = request("GET", f"/users/{user_id}/api_key", {"Authorization": f"Bearer {user_token}"}, None)
    api_key_token = _expect(status, body, (200,), "read the sample user's API key")["token"]
    webhook_id = _sample_webhook(request, user_id, user_token)
    return SampleUser(user_id, user_token, api_key_token, webhook_id, public_key, private_key)


def _sample_webhook(request: Request, user_id: str, user_token: str) -> str:
    """The id of the sample user's webhook endpoint, made the first time (the webhooks.*.json events name it)."""
    auth = {"Authorization": f"Bearer {user_token}"}
    status, body = request("GET", f"/users/{user_id}/webhooks", auth, None)
    _expect(status, body, (200,), "list the sample user's webhooks")
    found: list[dict[str, Any]] = body.get("data") or []
    if found:
        return str(found[0]["id"])
    status, body = request(
        "POST",
        f"/users/{user_id}/webhooks",
        {**auth, "Content-Type": "application/json"},
        _json({"url": SAMPLE_WEBHOOK_URL, "description": "The sample events' endpoint"}),
    )
    return str(_expect(status, body, (201,), "make the sample user's webhook")["id"])


def _set_header(event: dict[str, Any], name: str, value: str) -> None:
    """Set a header in both maps of a REST event (or the one map of a Function URL event), whatever its case."""
    for key in ("headers", "multiValueHeaders"):
        headers = event.get(key)
        if headers is None:
            continue
        existing = next((header for header in headers if header.lower() == name.lower()), name)
        headers[existing] = [value] if key == "multiValueHeaders" else value


def _header(event: dict[str, Any], name: str) -> str | None:
    headers = event.get("headers") or {}
    return next((value for header, value in headers.items() if header.lower() == name.lower()), None)


def _body_text(event: dict[str, Any]) -> str:
    body = event.get("body") or ""
    return base64.b64decode(body).decode("utf-8") if event.get("isBase64Encoded") else str(body)


def _set_body_text(event: dict[str, Any], text: str) -> None:
    event["body"] = base64.b64encode(text.encode()).decode() if event.get("isBase64Encoded") else text


def fresh_event(
    event: dict[str, Any], user: SampleUser, *, webhook_secret: str | None = None, now: int | None = None
) -> dict[str, Any]:
    """The committed event with the sample user's id and tokens made real, and whatever a second delivery would
    refuse made new: the registration's address and an Idempotency-Key; a webhook event for a new Checkout
    Session, signed at `now`."""
    text = json.dumps(event)
    for placeholder, value in (
        (SAMPLE_USER_ID, user.user_id),
        (SAMPLE_USER_TOKEN, user.user_token),
        (SAMPLE_API_KEY_TOKEN, user.api_key_token),
        (SAMPLE_WEBHOOK_ID, user.webhook_id),
        (f'"{DEFAULT_PUBLIC_API_KEY}"', json.dumps(user.public_key)),
        (f'"{DEFAULT_PRIVATE_API_KEY}"', json.dumps(user.private_key)),
    ):
        text = text.replace(placeholder, value)
    fresh: dict[str, Any] = json.loads(text)
    if fresh.get("isBase64Encoded") and fresh.get("body"):  # the user's id inside an encoded body
        _set_body_text(fresh, _body_text(fresh).replace(SAMPLE_USER_ID, user.user_id))
    if fresh.get("resource") == "/api/v1/auth/register":
        _set_body_text(fresh, _body_text(fresh).replace(SAMPLE_EMAIL, f"ada.{secrets.token_hex(4)}@example.com"))
    if _header(fresh, "Idempotency-Key") is not None:
        _set_header(fresh, "Idempotency-Key", f"sample-{secrets.token_hex(8)}")
    if (
        webhook_secret is not None
        and fresh.get("version") == "2.0"
        and "stripe" in (_header(fresh, "user-agent") or "").lower()
    ):
        # A new Checkout Session and event each time, so the webhook credits it rather than answer "already".
        fresh_ids = _body_text(fresh).replace("cs_test_sample", f"cs_test_{secrets.token_hex(8)}")
        _set_body_text(fresh, fresh_ids.replace("evt_sample", f"evt_{secrets.token_hex(8)}"))
        payload = _body_text(fresh).encode()
        _set_header(fresh, "stripe-signature", sign(payload, webhook_secret, now))
    return fresh


def fresh_events(
    user: SampleUser, *, webhook_secret: str | None, events_dir: Path = EVENTS_DIR
) -> dict[str, dict[str, Any]]:
    """Every committed event (events/*.json but env.json), fresh, by file name."""
    now = int(time.time())
    return {
        path.name: fresh_event(
            json.loads(path.read_text(encoding="utf-8")), user, webhook_secret=webhook_secret, now=now
        )
        for path in sorted(events_dir.glob("*.json"))
        if path.name != ENV_VARS_FILE.name
    }


# --------------------------------------------------------------------------- against the running API


_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def mailbox_code(mailbox_dir: Path, timeout: float = 10) -> Callable[[str, float], str]:
    """activation_code for `make run`: the newest .eml of its mailbox to that address (they arrive within a second)."""

    def code(address: str, since: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for path in sorted(mailbox_dir.glob("*.eml"), reverse=True):  # names start with the time sent
                if path.stat().st_mtime < since - 1:
                    break
                message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                if address in str(message.get("To", "")):
                    part = message.get_body(preferencelist=("plain", "html"))
                    found = _CODE.search(part.get_content() if part else "")
                    if found:
                        return found.group(1)
            time.sleep(0.25)
        raise SampleUserError(
            f"no email with a code to {address} in {mailbox_dir} within {timeout:g} s: is it the MAILBOX_DIR of the "
            "running `make run`?"
        )

    return code


def http_request(api_url: str) -> Request:
    import requests

    def request(method: str, path: str, headers: Mapping[str, str], body: bytes | None) -> tuple[int, dict[str, Any]]:
        try:
            response = requests.request(method, api_url + path, headers=dict(headers), data=body, timeout=30)
        except requests.ConnectionError:
            raise SampleUserError(
                f"nothing answers at {api_url}, where `make run` would serve the API (PORT)"
            ) from None
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, {"message": response.text[:200]}

    return request


def webhook_secret_source(
    template: Template, env_vars: Mapping[str, Any], moto_port: int = 0
) -> tuple[str | None, str | None]:
    """The emulation (on `moto_port`, when given) and the secret id the webhook function reads its signing secret
    from under events/env.json (as `make invoke` and `sam local invoke` resolve its environment)."""
    function_id = webhook_function_id(template)
    if function_id is None:
        return None, None
    shell = {"MOTO_PORT": str(moto_port)} if moto_port else {}
    environment = invoke_environment(template, function_id, env_vars, DEVELOPMENT_PARAMETERS, shell=shell)
    return environment.get("AWS_ENDPOINT_URL") or None, environment.get("STRIPE_WEBHOOK_SECRET_SECRET_ID") or None


def webhook_secret_of(template: Template, env_vars: Mapping[str, Any], moto_port: int = 0) -> str | None:
    """The webhook signing secret the functions read: `make run` stores the one its stand-in signs with."""
    import boto3
    from botocore.exceptions import EndpointConnectionError

    endpoint, secret_id = webhook_secret_source(template, env_vars, moto_port)
    if not endpoint or not secret_id:
        return None
    client = boto3.client(
        "secretsmanager",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
    )
    try:
        return str(client.get_secret_value(SecretId=secret_id)["SecretString"])
    except EndpointConnectionError:
        raise SampleUserError(emulator_refused(endpoint)) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_runtime.sample_events", description=__doc__.split("\n\n")[0])
    settings = Settings.from_environ()  # PORT, MOTO_PORT, MAILBOX_DIR and the API keys, as `make run` reads them
    parser.add_argument("--api", default=f"http://127.0.0.1:{settings.port}/api/v1", help="the running local API")
    parser.add_argument("--out", type=Path, default=GENERATED_DIR, help=f"default: {GENERATED_DIR}")
    parser.add_argument("--env-vars", type=Path, default=ENV_VARS_FILE, help=f"default: {ENV_VARS_FILE}")
    parser.add_argument("--template", default="template.yaml", help="SAM template (default: template.yaml)")
    parser.add_argument("--mailbox", type=Path, default=settings.mailbox_dir)
    arguments = parser.parse_args(argv)

    keys = {"public_key": settings.public_api_key, "private_key": settings.private_api_key}
    try:
        env_vars = read_json(arguments.env_vars, "--env-vars")
        user = prepare_sample_user(http_request(arguments.api), mailbox_code(arguments.mailbox), **keys)
        secret = webhook_secret_of(load_template(arguments.template), env_vars, settings.moto_port)
        events = fresh_events(user, webhook_secret=secret)
    except Exception as error:  # each says what failed, and where: the API, the emulation, the mailbox, a file
        print(f"make events: {error}", file=sys.stderr)
        return 1
    arguments.out.mkdir(parents=True, exist_ok=True)
    for name, event in events.items():
        (arguments.out / name).write_text(json.dumps(event, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"Sample user {SAMPLE_EMAIL} ({user.user_id}): {len(events)} events written to {arguments.out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
