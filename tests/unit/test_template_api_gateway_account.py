"""API Gateway's account-wide CloudWatch role is the stack's only when ManageApiGatewayAccount says so.

AWS::ApiGateway::Account is one setting per account and region: a second stack that sets it, then is deleted,
leaves every API of the region pointing at a deleted role. The template is checked for both values of the
parameter the way CloudFormation reads it: resources whose condition is false are left out, each Fn::If takes
one branch, and what remains must not name a resource that was left out ("Unresolved resource dependencies").
"""

from pathlib import Path
from typing import Any

import pytest
import yaml

from local_runtime.template import _CloudFormationLoader

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT: dict[str, Any] = yaml.load((ROOT / "template.yaml").read_text(), Loader=_CloudFormationLoader)  # noqa: S506
RESOURCES: dict[str, dict[str, Any]] = DOCUMENT["Resources"]
ACCOUNT_RESOURCES = {"ApiGatewayCloudWatchRole", "ApiGatewayAccount"}


def condition_is_true(name: str, parameters: dict[str, str]) -> bool:
    return truth(DOCUMENT["Conditions"][name], parameters)


def truth(value: Any, parameters: dict[str, str]) -> bool:
    ((function, argument),) = value.items()
    if function == "Fn::Equals":
        return resolve_scalar(argument[0], parameters) == resolve_scalar(argument[1], parameters)
    if function == "Fn::Not":
        return not truth(argument[0], parameters)
    if function == "Condition":
        return condition_is_true(argument, parameters)
    raise AssertionError(f"no rule for {function} in a condition")


def resolve_scalar(value: Any, parameters: dict[str, str]) -> str:
    if isinstance(value, dict) and "Ref" in value:
        return parameters[value["Ref"]]
    return str(value)


def parameter_values(**overrides: str) -> dict[str, str]:
    defaults = {name: str(spec.get("Default", "")) for name, spec in DOCUMENT["Parameters"].items()}
    return defaults | overrides


def deployed(parameters: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The resources CloudFormation keeps for these parameters, with every Fn::If replaced by its branch."""

    def choose(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"Fn::If"}:
                name, when_true, when_false = value["Fn::If"]
                return choose(when_true if condition_is_true(name, parameters) else when_false)
            return {key: choose(item) for key, item in value.items()}
        if isinstance(value, list):
            return [choose(item) for item in value]
        return value

    return {
        logical_id: choose(resource)
        for logical_id, resource in RESOURCES.items()
        if "Condition" not in resource or condition_is_true(resource["Condition"], parameters)
    }


def references(value: Any) -> set[str]:
    """Logical ids (and parameters) named by Ref, Fn::GetAtt and Fn::Sub anywhere in `value`."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str):
                found.add(item)
            elif key == "Fn::GetAtt":
                found.add(item[0] if isinstance(item, list) else item.split(".", 1)[0])
            elif key == "Fn::Sub":
                text, variables = (item, {}) if isinstance(item, str) else item
                for name in _sub_names(text):
                    if name not in variables:
                        found.add(name.split(".", 1)[0])
                found |= references(variables)
            else:
                found |= references(item)
    elif isinstance(value, list):
        for item in value:
            found |= references(item)
    return found


def _sub_names(text: str) -> list[str]:
    names, rest = [], text
    while "${" in rest:
        rest = rest.split("${", 1)[1]
        name, rest = rest.split("}", 1)
        if not name.startswith("!"):
            names.append(name)
    return names


def depends_on(resource: dict[str, Any]) -> set[str]:
    value = resource.get("DependsOn", [])
    return {value} if isinstance(value, str) else set(value)


def test_the_parameter_defaults_to_managing_the_account_and_offers_both_values():
    """true by default: a first stack in a fresh account gets access logs, and a stack deployed before the
    option existed keeps its role on update (false would remove it from the stack)."""
    parameter = DOCUMENT["Parameters"]["ManageApiGatewayAccount"]

    assert parameter["Default"] == "true"
    assert parameter["AllowedValues"] == ["true", "false"]
    assert "get-account" in parameter["Description"]
    assert DOCUMENT["Conditions"]["ManageApiGatewayAccount"] == {
        "Fn::Equals": [{"Ref": "ManageApiGatewayAccount"}, "true"]
    }


def test_the_account_resources_exist_only_when_managed_and_outlive_the_stack():
    for logical_id in sorted(ACCOUNT_RESOURCES):
        resource = RESOURCES[logical_id]
        assert resource["Condition"] == "ManageApiGatewayAccount", logical_id
        assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Retain", "Retain"), logical_id
    assert set(deployed(parameter_values(ManageApiGatewayAccount="false"))) & ACCOUNT_RESOURCES == set()
    assert set(deployed(parameter_values(ManageApiGatewayAccount="true"))) >= ACCOUNT_RESOURCES


def test_the_cloudwatch_role_is_exactly_api_gateways_push_to_logs_role():
    """The template's one IAM role of its own (SAM generates the functions'): trusted by API Gateway only, with
    AWS's managed policy for pushing logs and nothing else."""
    roles = {logical_id for logical_id, resource in RESOURCES.items() if resource["Type"] == "AWS::IAM::Role"}
    role = RESOURCES["ApiGatewayCloudWatchRole"]["Properties"]

    assert roles == {"ApiGatewayCloudWatchRole"}
    assert role == {
        "AssumeRolePolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        },
        "ManagedPolicyArns": [
            {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"}
        ],
    }
    assert RESOURCES["ApiGatewayAccount"]["Properties"] == {
        "CloudWatchRoleArn": {"Fn::GetAtt": ["ApiGatewayCloudWatchRole", "Arn"]}
    }


@pytest.mark.parametrize("manage", ["true", "false"])
def test_nothing_deployed_names_a_resource_left_out(manage: str):
    kept = deployed(parameter_values(ManageApiGatewayAccount=manage))
    names = set(kept) | set(DOCUMENT["Parameters"])

    for logical_id, resource in kept.items():
        missing = {name for name in references(resource) if not name.startswith("AWS::")} - names
        assert not missing, f"{logical_id} names {sorted(missing)}, which ManageApiGatewayAccount={manage} leaves out"
        assert depends_on(resource) <= set(kept), f"{logical_id} DependsOn a resource that is left out"


def test_no_depends_on_names_a_conditional_resource():
    """DependsOn takes no Fn::If, so it may only name resources that always exist."""
    for logical_id, resource in RESOURCES.items():
        for target in sorted(depends_on(resource)):
            assert "Condition" not in RESOURCES[target], f"{logical_id} DependsOn the conditional {target}"


def test_a_managed_account_is_set_before_the_api_whose_stage_writes_access_logs():
    """A stage with AccessLogSetting is refused while the account has no CloudWatch role. SAM makes the API's
    RestApi from ClaraApi's properties and its Stage after it, so a Ref there orders the Stage after the account."""
    api = RESOURCES["ClaraApi"]
    assert api["Properties"]["AccessLogSetting"]["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}

    managed = deployed(parameter_values(ManageApiGatewayAccount="true"))["ClaraApi"]
    unmanaged = deployed(parameter_values(ManageApiGatewayAccount="false"))["ClaraApi"]

    assert "ApiGatewayAccount" in references(managed["Properties"]) | depends_on(managed)
    assert references(unmanaged) & ACCOUNT_RESOURCES == set()
    assert "set outside this stack" in unmanaged["Properties"]["Description"]
