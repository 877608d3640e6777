"""Least privilege, checked: every function's IAM grants in template.yaml against what its code can call.

Each function's grants must be explicit `Statement` entries (no SAM policy templates, no managed policies), so
they can be read here. What its code can call is found statically: the import closure of its handler module
over `clara.*` and its own directory (every Import/ImportFrom, also those inside functions), then every boto3
operation called in that closure, and every PynamoDB call and unit-of-work write of clara.store, each mapped to its
IAM action. The closure over-approximates (a module imported
for one helper brings all of its calls), so two checks work together:

* granted <= callable: a function is never granted an action its code cannot call at all;
* granted == EXPECTED_ACTIONS: the reviewed minimum its routes need (missing and extra grants both fail), and
  that minimum is itself callable, so the table cannot drift from the code either.

Resources are checked as well: no "*" but for the Transcribe actions that have no resource-level permission,
each service's actions only on its own resource, index Queries only on indexes the code names, and secrets only
those the code reads. `pytest -s tests/unit/test_iam.py` prints the per-function table.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from local_runtime.template import load_template

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "shared"

# What each function's routes need, reviewed by hand (see the comments of its Policies in template.yaml).
AUTHENTICATION = {"dynamodb:UpdateItem", "dynamodb:BatchGetItem", "dynamodb:GetItem"}  # clara.http.auth, user_in_path
API_SECRETS = {
    "JwtSecret",
    "PublicApiKeySecret",
    "PrivateApiKeySecret",
}  # clara.http.auth, clara.domain.accounts.tokens
# A task's end records its webhook event (clara.domain.webhooks.events): the user's endpoints, read by a Query of the
# table; the event handed to the webhook queue, then deleted.
TASK_EVENTS = {"dynamodb:Query", "dynamodb:DeleteItem", "sqs:SendMessage"}
EXPECTED_ACTIONS: dict[str, set[str]] = {
    "MiscFunction": set(),
    "StripeFunction": {*AUTHENTICATION, "secretsmanager:GetSecretValue"},
    "StripeWebhookFunction": {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "secretsmanager:GetSecretValue",
    },
    "McpFunction": {
        *AUTHENTICATION,
        *TASK_EVENTS,
        "dynamodb:PutItem",
        "dynamodb:Query",
        "s3:PutObject",
        "s3:DeleteObject",
        "sqs:SendMessage",
        "secretsmanager:GetSecretValue",
    },
    "AgentFunction": {
        *AUTHENTICATION,
        *TASK_EVENTS,
        "dynamodb:PutItem",
        "s3:PutObject",
        "s3:DeleteObject",
        "sqs:SendMessage",
        "secretsmanager:GetSecretValue",
    },
    "TasksFunction": {
        *AUTHENTICATION,
        *TASK_EVENTS,
        "dynamodb:Query",
        "dynamodb:PutItem",  # a cancel's refund: the transaction item (the task and the balance are UpdateItem)
        "secretsmanager:GetSecretValue",
    },
    "AnalysisWorkerFunction": {
        *TASK_EVENTS,
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "s3:GetObject",
        "s3:PutObject",  # Transcribe writes the transcript with the caller's permissions
        "bedrock:InvokeModel",
        "bedrock:InvokeTool",  # Nova Web Grounding
        "sqs:ChangeMessageVisibility",  # a transient failure's retry delay
        "transcribe:StartTranscriptionJob",
        "transcribe:GetTranscriptionJob",
    },
    "AnalysisSweeperFunction": {
        *TASK_EVENTS,
        "dynamodb:GetItem",
        "dynamodb:PutItem",  # the refund's transaction item
        "dynamodb:UpdateItem",
        "dynamodb:Query",  # the open tasks and the unsent security notices, on gsi1
        "sqs:SendMessage",  # a lost message, sent again
        "dynamodb:DeleteItem",  # a security notice, once sent
        "ses:SendEmail",  # a security notice a request left unsent
    },
    "AuthFunction": {
        *AUTHENTICATION,
        "dynamodb:BatchWriteItem",
        # the login's check of the account's hourly failures (clara.domain.accounts.lockout)
        "dynamodb:ConditionCheckItem",
        "dynamodb:DeleteItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "secretsmanager:GetSecretValue",
        "ses:SendEmail",
    },
    "UsersFunction": {
        *AUTHENTICATION,
        "dynamodb:BatchWriteItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "s3:ListBucket",
        "s3:DeleteObject",
        "secretsmanager:GetSecretValue",
    },
    "ApiKeysFunction": {*AUTHENTICATION, "dynamodb:PutItem", "secretsmanager:GetSecretValue"},
    "TransactionsFunction": {
        *AUTHENTICATION,
        "dynamodb:PutItem",
        "dynamodb:Query",
        "secretsmanager:GetSecretValue",
    },
    "WebhooksFunction": {
        *AUTHENTICATION,
        "dynamodb:PutItem",  # an endpoint (with its count's Update), a test event
        "dynamodb:DeleteItem",  # an endpoint; a test event once queued
        "dynamodb:Query",  # the endpoints, the delivery log
        "sqs:SendMessage",  # a test event
        "secretsmanager:GetSecretValue",
    },
    "WebhookDeliveryFunction": {
        "dynamodb:GetItem",  # the endpoint, and its owner when it is disabled
        "dynamodb:PutItem",  # the delivery log; the owner's notice
        "dynamodb:UpdateItem",  # the endpoint's failing state, its disabling
        "dynamodb:DeleteItem",  # the notice, once sent
        "sqs:ChangeMessageVisibility",  # a failed attempt waits for its retry
        "secretsmanager:GetSecretValue",  # the token key, which seals the signing secrets
        "ses:SendEmail",  # the owner of a disabled endpoint
    },
}
EXPECTED_SECRETS: dict[str, set[str]] = {
    "MiscFunction": set(),
    "StripeFunction": {*API_SECRETS, "StripeSecretKeySecret"},
    "StripeWebhookFunction": {"StripeWebhookSecret"},
    "McpFunction": {*API_SECRETS, "StripeSecretKeySecret"},
    "AgentFunction": API_SECRETS,
    "TasksFunction": API_SECRETS,
    "AnalysisWorkerFunction": set(),
    "AnalysisSweeperFunction": set(),
    "AuthFunction": API_SECRETS,
    "UsersFunction": API_SECRETS,
    "ApiKeysFunction": API_SECRETS,
    "TransactionsFunction": API_SECRETS,
    "WebhooksFunction": API_SECRETS,
    "WebhookDeliveryFunction": {"JwtSecret"},
}

# Actions AWS authorises only on "*" (no resource-level permissions).
NO_RESOURCE_LEVEL = {"transcribe:StartTranscriptionJob", "transcribe:GetTranscriptionJob"}

# boto3 operations (method names, or paginator names) and the IAM action each needs.
OPERATIONS: dict[str, str] = {
    "get_item": "dynamodb:GetItem",
    "batch_get_item": "dynamodb:BatchGetItem",
    "query": "dynamodb:Query",
    "scan": "dynamodb:Scan",
    "update_item": "dynamodb:UpdateItem",
    "put_item": "dynamodb:PutItem",
    "delete_item": "dynamodb:DeleteItem",
    "batch_write_item": "dynamodb:BatchWriteItem",
    "put_object": "s3:PutObject",
    "get_object": "s3:GetObject",
    "head_object": "s3:GetObject",
    "delete_object": "s3:DeleteObject",
    "delete_objects": "s3:DeleteObject",
    "list_objects_v2": "s3:ListBucket",
    "send_message": "sqs:SendMessage",
    "send_message_batch": "sqs:SendMessage",
    "change_message_visibility": "sqs:ChangeMessageVisibility",
    "send_email": "ses:SendEmail",
    "converse": "bedrock:InvokeModel",
    "invoke_model": "bedrock:InvokeModel",
    "start_transcription_job": "transcribe:StartTranscriptionJob",
    "get_transcription_job": "transcribe:GetTranscriptionJob",
    "get_secret_value": "secretsmanager:GetSecretValue",
}
# PynamoDB's calls (clara.store's item classes), and the IAM action each needs. `batch_get` and `batch_write`
# name only PynamoDB's; `update` counts with its `actions=` keyword (a dict's update has none), `get` and
# `delete` on an item class (a dict's get is not one), `save` on anything (nothing else in the layer saves).
ITEM_OPERATIONS: dict[str, str] = {
    "batch_get": "dynamodb:BatchGetItem",
    "batch_write": "dynamodb:BatchWriteItem",
    "update": "dynamodb:UpdateItem",
    "get": "dynamodb:GetItem",
    "delete": "dynamodb:DeleteItem",
    "save": "dynamodb:PutItem",
    "refresh": "dynamodb:GetItem",
}
STORE = LAYER / "clara" / "store"
# TransactWriteItems is authorised per item operation, by the operation keys the transactions are built from.
TRANSACT_CALLS = {"transact_write_items"}  # boto3's (clara.store.unit.commit is found as unit.commit)
TRANSACT_OPERATIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}
# The writes of a clara.store.unit (unit.put(...)), each the transaction operation it becomes; unit.commit sends them.
UNIT_WRITES = {"put": "Put", "update": "Update", "delete": "Delete", "check": "ConditionCheck"}


# A system tool named in the code is authorised apart from the model that calls it.
SYSTEM_TOOLS = {"nova_grounding": "bedrock:InvokeTool"}
# Each queue, by the setting that holds its URL (clara.settings): a function's code that names it sends there.
QUEUE_SETTINGS = {"AnalysisQueue": "analysis_queue_url", "WebhookQueue": "webhook_queue_url"}
SECRET_READERS = {"secret", "optional_secret"}  # clara.secrets: secret("jwt_secret_key") ...
S3_BUCKET_ACTIONS = {"s3:ListBucket"}


# ------------------------------------------------------------------------------------------- the template


@cache
def template() -> Any:
    return load_template(ROOT / "template.yaml")


def functions() -> dict[str, dict[str, Any]]:
    return template().resources_of_type("AWS::Serverless::Function")


def statements(function: str) -> list[dict[str, Any]]:
    """The function's Statement entries; a SAM policy template or a managed policy fails the test."""
    found: list[dict[str, Any]] = []
    for policy in functions()[function]["Properties"].get("Policies") or []:
        if not (isinstance(policy, dict) and set(policy) == {"Statement"}):
            name = next(iter(policy)) if isinstance(policy, dict) else policy
            pytest.fail(f"{function}: grant {name!r} is not an explicit Statement (SAM policy templates hide actions)")
        found.extend(policy["Statement"])
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def render(resource: Any) -> str:
    """A Resource as one string: !GetAtt X.Arn -> ${X.Arn}, !Ref X -> ${X}, !Sub keeps its text."""
    if isinstance(resource, str):
        return resource
    if isinstance(resource, dict) and len(resource) == 1:
        ((kind, value),) = resource.items()
        if kind == "Ref":
            return f"${{{value}}}"
        if kind == "Fn::GetAtt":
            return f"${{{'.'.join(as_list(value))}}}"
        if kind == "Fn::Sub" and isinstance(value, str):
            return value
        if kind == "Fn::Sub" and isinstance(value, list) and isinstance(value[0], str):
            return str(value[0])  # [text, variables]: the text names each variable
    raise AssertionError(f"unexpected Resource {resource!r}")


def granted(function: str) -> set[str]:
    actions: set[str] = set()
    for statement in statements(function):
        assert statement.get("Effect") == "Allow", f"{function}: only Allow statements are expected"
        actions.update(as_list(statement["Action"]))
    return actions


def secret_logical_ids() -> dict[str, str]:
    """Secret name used by clara.secrets (jwt_secret_key) -> its Secrets Manager resource (JwtSecret)."""
    variables = template().globals_function["Environment"]["Variables"]
    return {
        name.removesuffix("_SECRET_ID").lower(): value["Ref"]
        for name, value in variables.items()
        if name.endswith("_SECRET_ID") and isinstance(value, dict) and "Ref" in value
    }


# ------------------------------------------------------------------------------------------- the code


def _module_file(name: str, function_dir: Path) -> Path | None:
    parts = name.split(".")
    bases = [LAYER] if parts[0] == "clara" else [function_dir]
    for base in bases:
        for candidate in (base.joinpath(*parts).with_suffix(".py"), base.joinpath(*parts, "__init__.py")):
            if candidate.is_file():
                return candidate
    return None


def _imported_names(tree: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    """Every module an Import/ImportFrom anywhere in `tree` may load (the package parents too)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, base] if base else package)
            # `from clara import analysis` loads clara and, if it is a module, clara.domain.analysis
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        for name in names:
            parts = name.split(".")
            yield from (".".join(parts[:end]) for end in range(1, len(parts) + 1))


@cache
def import_closure(function: str) -> dict[str, Path]:
    """The handler module and every clara.* or sibling module it may import, transitively."""
    properties = functions()[function]["Properties"]
    function_dir = (ROOT / properties["CodeUri"]).resolve()
    handler_module = properties["Handler"].rsplit(".", 1)[0]
    pending, closure = [handler_module], {}
    while pending:
        module = pending.pop()
        if module in closure:
            continue
        path = _module_file(module, function_dir)
        if path is None:
            continue  # a third-party or standard module (or a name imported from a module)
        closure[module] = path
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        pending.extend(_imported_names(tree, module, path.name == "__init__.py"))
    return closure


def queues_named(function: str) -> set[str]:
    """The queues whose URL setting the function's code reads (get_settings().analysis_queue_url ...)."""
    named = set()
    for path in import_closure(function).values():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        attributes = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
        named |= {queue for queue, setting in QUEUE_SETTINGS.items() if setting in attributes}
    return named


@cache
def item_classes() -> frozenset[str]:
    """The names of clara.store's item classes (TableItem and its subclasses)."""
    names = {"TableItem"}
    for path in STORE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(base, ast.Name) and base.id in names for base in node.bases
            ):
                names.add(node.name)
    return frozenset(names)


@cache
def index_attributes() -> dict[str, str]:
    """The indexes of the table, by the name of their attribute on TableItem (by_email -> gsi1), as
    clara/store/table.py declares them (an index class's Meta.index_name)."""
    tree = ast.parse((STORE / "table.py").read_text(encoding="utf-8"))
    index_of_class: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for inner in ast.walk(node):
                if (
                    isinstance(inner, ast.Assign)
                    and any(isinstance(target, ast.Name) and target.id == "index_name" for target in inner.targets)
                    and isinstance(inner.value, ast.Constant)
                ):
                    index_of_class[node.name] = str(inner.value.value)
    attributes: dict[str, str] = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id in index_of_class
        ):
            index = index_of_class[node.value.func.id]
            attributes.update((target.id, index) for target in node.targets if isinstance(target, ast.Name))
    return attributes


def _item_operation(call: ast.Call, name: str | None) -> str | None:
    """The IAM action of a PynamoDB call (ITEM_OPERATIONS), or None."""
    if name not in ITEM_OPERATIONS or not isinstance(call.func, ast.Attribute):
        return None
    receiver = call.func.value
    if name == "update" and not any(keyword.arg == "actions" for keyword in call.keywords):
        return None
    if name in ("get", "delete") and not (isinstance(receiver, ast.Name) and receiver.id in item_classes()):
        return None
    return ITEM_OPERATIONS[name]


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return None


@cache
def code_facts(function: str) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(IAM actions the closure can call, index names it queries, secret names it reads)."""
    actions: set[str] = set()
    indexes: set[str] = set()
    secrets: set[str] = set()
    transacts = False
    transact_keys: set[str] = set()
    for path in import_closure(function).values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in index_attributes():
                indexes.add(index_attributes()[node.attr])  # item_class.by_email.query(...): PynamoDB's index
            if (
                isinstance(node, ast.Attribute)
                and node.attr in OPERATIONS
                and isinstance(node.value, ast.Call)
                and _called_name(node.value) == "_get_connection"
            ):
                actions.add(OPERATIONS[node.attr])  # a connection's operation passed on uncalled (a ResultIterator's)
            if isinstance(node, ast.Constant) and node.value in SYSTEM_TOOLS:
                actions.add(SYSTEM_TOOLS[node.value])
            # clara.store.unit spells every operation; what a function can send is what its code asks unit for.
            if isinstance(node, ast.Dict) and path != STORE / "unit.py":
                transact_keys.update(
                    key.value for key in node.keys if isinstance(key, ast.Constant) and key.value in TRANSACT_OPERATIONS
                )
            if not isinstance(node, ast.Call):
                continue
            name = _called_name(node)
            literal_args = [arg.value for arg in node.args if isinstance(arg, ast.Constant)]
            if name in OPERATIONS:
                actions.add(OPERATIONS[name])
            if item_action := _item_operation(node, name):
                actions.add(item_action)
            if name == "get_paginator":
                actions.update(OPERATIONS[arg] for arg in literal_args if arg in OPERATIONS)
            if name in TRANSACT_CALLS:
                transacts = True
            receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
            if isinstance(receiver, ast.Name) and receiver.id == "unit":
                if name == "commit":
                    transacts = True
                elif name in UNIT_WRITES:
                    transact_keys.add(UNIT_WRITES[name])
            if name in SECRET_READERS:
                secrets.update(str(arg) for arg in literal_args)
            indexes.update(
                str(keyword.value.value)
                for keyword in node.keywords
                if keyword.arg in ("IndexName", "index_name") and isinstance(keyword.value, ast.Constant)
            )
    if transacts:
        actions.update(TRANSACT_OPERATIONS[key] for key in transact_keys)
    return frozenset(actions), frozenset(indexes), frozenset(secrets)


# ------------------------------------------------------------------------------------------- the checks

FUNCTIONS = sorted(EXPECTED_ACTIONS)


def test_every_function_has_a_reviewed_entry() -> None:
    assert sorted(functions()) == FUNCTIONS, "add the new function to EXPECTED_ACTIONS and EXPECTED_SECRETS"
    assert sorted(EXPECTED_SECRETS) == FUNCTIONS


def test_the_analysis_finds_what_the_code_calls() -> None:
    """A sanity check of the analysis itself, on calls known to be there (and not there)."""
    worker_actions, _, worker_secrets = code_facts("AnalysisWorkerFunction")
    assert {"bedrock:InvokeModel", "bedrock:InvokeTool", "transcribe:StartTranscriptionJob", "s3:GetObject"} <= (
        worker_actions
    )
    assert "secretsmanager:GetSecretValue" not in worker_actions and not worker_secrets
    auth_actions, auth_indexes, auth_secrets = code_facts("AuthFunction")
    assert {"dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "ses:SendEmail"} <= auth_actions
    assert "clara.integrations.google_identity" in import_closure("AuthFunction")  # imported inside a function
    assert auth_indexes >= {"gsi1", "gsi2"} and {"jwt_secret_key", "private_api_key"} <= auth_secrets
    assert "dynamodb:ConditionCheckItem" in auth_actions  # a transaction operation, not a client call
    assert code_facts("MiscFunction") == (frozenset(), frozenset(), frozenset())
    # PynamoDB's calls in clara.store: the authenticated read's BatchGetItem, the rate counter's UpdateItem, the
    # admin's user read (GetItem), and the indexes by their attributes on the item classes.
    assert index_attributes() == {"by_email": "gsi1", "newest_first": "gsi2"}
    assert {"UserItem", "SessionItem", "LoginCounter"} <= item_classes()
    users_actions, users_indexes, _ = code_facts("UsersFunction")
    assert {"dynamodb:BatchGetItem", "dynamodb:UpdateItem", "dynamodb:GetItem"} <= users_actions
    assert "gsi2" in users_indexes  # list_users: UserItem.newest_first
    assert "lambda_asgi" in import_closure("McpFunction")  # a sibling module of the handler


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_action_the_code_cannot_call(function: str) -> None:
    callable_actions = code_facts(function)[0]
    for action in sorted(granted(function)):
        assert "*" not in action, f"{function} is granted the wildcard action {action}"
        assert action in callable_actions, f"{function} is granted {action}, which its code never calls"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_grants_are_the_reviewed_minimum(function: str) -> None:
    expected, actions = EXPECTED_ACTIONS[function], granted(function)
    assert expected <= code_facts(function)[0], f"{function}: EXPECTED_ACTIONS names actions its code never calls"
    assert not expected - actions, f"{function} is missing {sorted(expected - actions)}, which its routes call"
    assert not actions - expected, f"{function} is granted {sorted(actions - expected)} beyond EXPECTED_ACTIONS"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_resources_are_the_narrowest(function: str) -> None:
    _, indexes, secret_names = code_facts(function)
    secrets_read = {secret_logical_ids()[name] for name in secret_names if name in secret_logical_ids()}
    secrets_granted: set[str] = set()
    for statement in statements(function):
        actions = set(as_list(statement["Action"]))
        services = {action.split(":", 1)[0] for action in actions}
        assert len(services) == 1, f"{function}: one service per statement, not {sorted(services)}"
        (service,) = services
        resources = [render(resource) for resource in as_list(statement["Resource"])]
        if "*" in resources:
            assert resources == ["*"] and actions <= NO_RESOURCE_LEVEL, (
                f"{function}: Resource '*' for {sorted(actions - NO_RESOURCE_LEVEL) or sorted(actions)}"
            )
            continue
        for resource in resources:
            if service == "dynamodb":
                index = re.fullmatch(r"\$\{ClaraTable\.Arn\}/index/(\w+)", resource)
                assert resource == "${ClaraTable.Arn}" or index, f"{function}: {resource} is not the table"
                if index:
                    assert actions == {"dynamodb:Query"}, f"{function}: only Query on an index"
                    assert index.group(1) in indexes, f"{function}: its code queries no index {index.group(1)}"
            elif service == "s3":
                if actions & S3_BUCKET_ACTIONS:
                    assert actions <= S3_BUCKET_ACTIONS and resource == "${AttachmentsBucket.Arn}", (
                        f"{function}: bucket actions belong alone, on the bucket"
                    )
                else:
                    assert resource.startswith("${AttachmentsBucket.Arn}/"), f"{function}: {resource} is not an object"
            elif service == "sqs":
                queue = re.fullmatch(r"\$\{(\w+)\.Arn\}", resource)
                assert queue and queue.group(1) in QUEUE_SETTINGS, f"{function}: {resource} is no queue of Clara's"
                assert queue.group(1) in queues_named(function), f"{function}: its code never names {resource}"
            elif service == "secretsmanager":
                secret_id = resource.removeprefix("${").removesuffix("}")
                assert secret_id in secrets_read, f"{function}: its code never reads {secret_id}"
                secrets_granted.add(secret_id)
            elif service == "ses":
                assert resource.endswith(":identity/${MailSenderAddress}"), f"{function}: {resource} is not the sender"
            elif service == "bedrock" and actions == {"bedrock:InvokeTool"}:
                assert resource.endswith(":system-tool/amazon.nova_grounding"), f"{function}: {resource} is not a tool"
            elif service == "bedrock":
                assert re.search(
                    r":(inference-profile/\$\{BedrockModelId\}|foundation-model/\$\{FoundationModelId\})$", resource
                ), f"{function}: {resource} is not the configured model"
            else:
                pytest.fail(f"{function}: no resource rule for {service}")
    assert secrets_granted == EXPECTED_SECRETS[function], f"{function}: secrets {sorted(secrets_granted)}"


def test_print_the_grants() -> None:
    """`pytest -s` shows, per function, the IAM actions it is granted (and the secrets it may read)."""
    print("\nIAM actions granted per function (template.yaml):")
    for function in FUNCTIONS:
        actions = sorted(granted(function))
        print(f"  {function}: {', '.join(actions) or '(none: logs and X-Ray only)'}")
        if EXPECTED_SECRETS[function]:
            print(f"    secrets: {', '.join(sorted(EXPECTED_SECRETS[function]))}")
