"""A function's environment variables with the template's intrinsics resolved against the emulated resources."""

from __future__ import annotations

import logging
import re
from typing import Any

from local_runtime.events import ACCOUNT_ID, REGION
from local_runtime.resources import get_att
from local_runtime.template import Template

log = logging.getLogger("local_runtime")

STACK_NAME = "clara-local"
# Parameter values that differ from the template's defaults when running locally.
LOCAL_PARAMETERS = {"Environment": "development", "ApiDocs": "enabled"}
PSEUDO_PARAMETERS = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT_ID,
    "AWS::StackName": STACK_NAME,
    "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{STACK_NAME}/local",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NoValue": "",
}


class UnresolvableValue(ValueError):
    """An intrinsic the local runtime cannot evaluate."""


class _Resolver:
    def __init__(self, template: Template, physical_ids: dict[str, str], parameters: dict[str, str] | None = None):
        self.template = template
        self.physical_ids = physical_ids
        self.parameters = LOCAL_PARAMETERS if parameters is None else parameters

    def ref(self, name: str) -> str:
        if name in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[name]
        if name in self.template.parameters:
            value = self.parameters.get(name, self.template.parameters[name])
            return "" if value is None else _text(value)
        if name in self.physical_ids:
            return self.physical_ids[name]
        if name in self.template.resources:  # functions, the API, layers: their logical id stands in
            return name
        raise UnresolvableValue(f"!Ref {name}")

    def get_att(self, logical_id: str, attribute: str) -> str:
        try:
            return get_att(self.template, logical_id, attribute, self.physical_ids)
        except KeyError as error:
            raise UnresolvableValue(f"!GetAtt {logical_id}.{attribute}") from error

    def sub(self, text: str, variables: dict[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):  # ${!Literal} stays as ${Literal}
                return "${" + name[1:] + "}"
            if name in variables:
                return self.resolve(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return self.get_att(logical_id, attribute)
            return self.ref(name)

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def condition(self, name: str) -> bool:
        return self.truth(self.template.conditions[name])

    def truth(self, value: Any) -> bool:
        if isinstance(value, dict) and len(value) == 1:
            ((function, argument),) = value.items()
            if function == "Condition":
                return self.condition(argument)
            if function == "Fn::Equals":
                return self.resolve(argument[0]) == self.resolve(argument[1])
            if function == "Fn::Not":
                return not self.truth(argument[0])
            if function == "Fn::And":
                return all(self.truth(item) for item in argument)
            if function == "Fn::Or":
                return any(self.truth(item) for item in argument)
        raise UnresolvableValue(f"condition {value!r}")

    def resolve(self, value: Any) -> str:
        if not isinstance(value, dict):
            return _text(value)
        if len(value) != 1:
            raise UnresolvableValue(repr(value))
        ((function, argument),) = value.items()
        if function == "Ref":
            return self.ref(argument)
        if function == "Fn::GetAtt":
            logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
            return self.get_att(logical_id, attribute)
        if function == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else argument
            return self.sub(text, variables)
        if function == "Fn::Join":
            separator, items = argument
            return separator.join(self.resolve(item) for item in items)
        if function == "Fn::Select":
            index, items = argument
            if isinstance(items, dict):
                items = self.resolve(items).split(",")
            return self.resolve(items[int(index)])
        if function == "Fn::Split":
            separator, text = argument
            return ",".join(self.resolve(text).split(separator))
        if function == "Fn::If":
            name, when_true, when_false = argument
            return self.resolve(when_true if self.condition(name) else when_false)
        raise UnresolvableValue(function)


def _text(value: Any) -> str:
    if isinstance(value, bool):  # CloudFormation writes booleans in lower case
        return str(value).lower()
    return str(value)


def resolve_value(template: Template, value: Any, physical_ids: dict[str, str]) -> str:
    """One template value (scalar or intrinsic) as the string CloudFormation would produce."""
    return _Resolver(template, physical_ids).resolve(value)


def function_environment(
    template: Template,
    function_id: str,
    physical_ids: dict[str, str],
    overrides: dict[str, str] | None = None,
    parameters: dict[str, str] | None = None,
) -> dict[str, str]:
    """The function's variables (Globals merged with its own), resolved; `overrides` win and may add names.

    `parameters` are the stack's parameter values that differ from the template's defaults (LOCAL_PARAMETERS
    unless given); a resource that is not in `physical_ids` resolves to its logical id, as `sam local` does.
    """
    resolver = _Resolver(template, physical_ids, parameters)
    environment: dict[str, str] = {}
    for name, value in template.functions[function_id].environment.items():
        try:
            environment[name] = resolver.resolve(value)
        except (UnresolvableValue, KeyError, TypeError, ValueError) as error:
            log.warning("%s: cannot resolve %s locally (%s); left unset", function_id, name, error)
    environment.update(overrides or {})
    return environment
