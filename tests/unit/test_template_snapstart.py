"""SnapStart in template.yaml: offered per function by the SnapStartFunctions parameter, on by default for the MCP
function, and every caller of such a function reaches it through its alias (SnapStart starts published versions
only; $LATEST would run a plain cold start)."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from local_runtime.template import _CloudFormationLoader, load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
DOCUMENT = yaml.load((ROOT / "template.yaml").read_text(), Loader=_CloudFormationLoader)  # noqa: S506 (SafeLoader)
PARAMETER = "SnapStartFunctions"
ALIASED = sorted(
    name
    for name, resource in TEMPLATE.resources.items()
    if resource.get("Type") == "AWS::Serverless::Function" and "AutoPublishAlias" in resource.get("Properties", {})
)


def parameter() -> dict[str, Any]:
    return DOCUMENT["Parameters"][PARAMETER]


def evaluate(node: Any, value: str) -> Any:
    """The few intrinsic functions the SnapStart conditions use, with SnapStartFunctions = `value`."""
    if not isinstance(node, dict):
        return node
    [(function, argument)] = node.items()
    if function == "Ref":
        assert argument == PARAMETER
        return value
    arguments = [evaluate(item, value) for item in argument]
    if function == "Fn::Split":
        return arguments[1].split(arguments[0])
    if function == "Fn::Join":
        return arguments[0].join(evaluate(item, value) for item in arguments[1])
    if function == "Fn::Equals":
        return arguments[0] == arguments[1]
    if function == "Fn::Not":
        return not arguments[0]
    raise AssertionError(f"unexpected {function}")


def snapstart_on(function_id: str, value: str) -> bool:
    return bool(evaluate(DOCUMENT["Conditions"][f"SnapStart{function_id}"], value))


def test_snapstart_is_on_by_default_for_the_mcp_function_only() -> None:
    default = parameter()["Default"]

    assert default == "McpFunction"
    assert {function_id: snapstart_on(function_id, default) for function_id in ALIASED} == {"McpFunction": True}


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", set()), ("McpFunction", {"McpFunction"}), ("McpFunction,McpFunction", {"McpFunction"})],
)
def test_the_parameter_names_the_functions_that_start_from_a_snapshot(value: str, expected: set[str]) -> None:
    assert re.fullmatch(parameter()["AllowedPattern"], value)
    assert {function_id for function_id in ALIASED if snapstart_on(function_id, value)} == expected


@pytest.mark.parametrize("value", ["Mcp", "McpFunction ", "mcpfunction", "AuthFunction", "McpFunction,"])
def test_a_name_of_no_function_with_an_alias_is_refused_at_deploy(value: str) -> None:
    assert not re.fullmatch(parameter()["AllowedPattern"], value)


def test_the_parameter_offers_exactly_the_functions_with_an_alias() -> None:
    """A function needs its alias (AutoPublishAlias) for SnapStart, and its name must match no other function's
    part: the condition looks for the name in the comma-separated list."""
    offered = re.findall(r"[A-Za-z]+Function", parameter()["AllowedPattern"])

    assert set(offered) == set(ALIASED) and ALIASED
    assert [(a, b) for a in TEMPLATE.functions for b in TEMPLATE.functions if a != b and a in b] == []


@pytest.mark.parametrize("function_id", ALIASED)
def test_snapstart_and_a_new_version_follow_the_parameter(function_id: str) -> None:
    properties = TEMPLATE.resources[function_id]["Properties"]
    condition = f"SnapStart{function_id}"

    assert properties["AutoPublishAlias"] == "live"
    assert properties["SnapStart"] == {"ApplyOn": {"Fn::If": [condition, "PublishedVersions", "None"]}}
    # SAM hashes the template unresolved: the description is what publishes a version when the parameter changes.
    assert properties["VersionDescription"] == {"Fn::If": [condition, "SnapStart on", "SnapStart off"]}
    # Versions left behind would keep a cached, billed snapshot.
    assert properties["VersionDeletionPolicy"] == "Delete"


def references(node: Any) -> list[str]:
    """Every Ref, GetAtt and ${...} of `node`, as text."""
    if isinstance(node, dict):
        found = [json.dumps(node["Ref"])] if "Ref" in node else []
        found += [json.dumps(node["Fn::GetAtt"])] if "Fn::GetAtt" in node else []
        return found + [reference for value in node.values() for reference in references(value)]
    if isinstance(node, list):
        return [reference for item in node for reference in references(item)]
    return re.findall(r"\$\{([^}]+)\}", node) if isinstance(node, str) else []


@pytest.mark.parametrize("function_id", ALIASED)
def test_nothing_invokes_a_function_with_an_alias_around_its_alias(function_id: str) -> None:
    """SAM points the function's own events (and Function URL) at the alias. An explicit permission, event source
    mapping, subscription or integration URI naming the function would call $LATEST instead; alarms and log
    groups may name it (Lambda's metrics by function name cover every version)."""
    invoking_types = {
        "AWS::Lambda::Permission",
        "AWS::Lambda::EventSourceMapping",
        "AWS::Lambda::Url",
        "AWS::SNS::Subscription",
        "AWS::Events::Rule",
        "AWS::Scheduler::Schedule",
        "AWS::ApiGateway::Method",
        "AWS::ApiGatewayV2::Integration",
    }
    invokers = [
        name
        for name, resource in TEMPLATE.resources.items()
        if resource.get("Type") in invoking_types
        and any(function_id in reference for reference in references(resource.get("Properties", {})))
    ]
    api_bodies = [
        name
        for name, resource in TEMPLATE.resources.items()
        if resource.get("Type") == "AWS::Serverless::Api"
        and function_id in json.dumps(resource.get("Properties", {}).get("DefinitionBody", {}))
    ]

    assert (invokers, api_bodies) == ([], [])


def test_sams_transform_points_the_api_at_the_alias(monkeypatch: pytest.MonkeyPatch) -> None:
    """What SAM makes of the template (with the aws-sam-translator that `make install-tools` brings)."""
    transform = pytest.importorskip("samtranslator.translator.transform").transform
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    document = json.loads(json.dumps(DOCUMENT))
    for resource in document["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://bucket/code.zip"  # as after `sam package`
        if resource["Type"] == "AWS::Serverless::LayerVersion":
            resource["Properties"]["ContentUri"] = "s3://bucket/layer.zip"

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    resources = transform(document, {}, NoManagedPolicies())["Resources"]

    for function_id in ALIASED:
        alias = f"{function_id}Aliaslive"
        assert resources[alias]["Type"] == "AWS::Lambda::Alias"
        permissions = [
            resource["Properties"]["FunctionName"]
            for resource in resources.values()
            if resource["Type"] == "AWS::Lambda::Permission"
            and function_id in json.dumps(resource["Properties"]["FunctionName"])
        ]
        assert permissions and all(name == {"Ref": alias} for name in permissions)
        api = json.dumps([r for r in resources.values() if r["Type"] == "AWS::ApiGateway::RestApi"])
        assert f"${{{alias}}}/invocations" in api and f"${{{function_id}.Arn}}/invocations" not in api
        [version] = [r for name, r in resources.items() if name.startswith(f"{function_id}Version")]
        assert version["DeletionPolicy"] == "Delete"
