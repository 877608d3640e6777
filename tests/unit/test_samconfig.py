"""samconfig.toml's staging and production environments (`sam deploy --config-env ...`) name only parameters the
template has, with values it allows, and exactly one of the two owns the account's API Gateway CloudWatch role."""

import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from local_runtime.template import _CloudFormationLoader

ROOT = Path(__file__).resolve().parents[2]
CONFIG: dict[str, Any] = tomllib.loads((ROOT / "samconfig.toml").read_text())
PARAMETERS: dict[str, Any] = yaml.load((ROOT / "template.yaml").read_text(), Loader=_CloudFormationLoader)[  # noqa: S506
    "Parameters"
]
ENVIRONMENTS = ["staging", "production"]


def overrides(environment: str) -> dict[str, str]:
    """`Name="value" ...` as SAM CLI reads parameter_overrides."""
    text = CONFIG[environment]["deploy"]["parameters"]["parameter_overrides"]
    return dict(item.split("=", 1) for item in shlex.split(text))


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_an_environment_overrides_only_template_parameters_with_allowed_values(environment: str):
    values = overrides(environment)

    assert values, f"{environment} overrides nothing"
    for name, value in values.items():
        assert name in PARAMETERS, f"{environment}: {name} is no parameter of template.yaml"
        allowed = [str(allowed) for allowed in PARAMETERS[name].get("AllowedValues", [value])]
        assert value in allowed, f"{environment}: {name}={value} is not one of {allowed}"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_an_environment_deploys_a_stack_of_its_own_with_what_the_template_needs(environment: str):
    deploy = CONFIG[environment]["deploy"]["parameters"]

    assert CONFIG[environment]["global"]["parameters"]["stack_name"] == f"clara-backend-{environment}"
    assert deploy["capabilities"] == "CAPABILITY_IAM"  # the CloudWatch role, and SAM's function roles
    assert deploy["resolve_s3"] is True
    assert CONFIG[environment]["build"]["parameters"] == CONFIG["default"]["build"]["parameters"]


def test_staging_runs_as_production_does_with_its_docs_on_and_production_owns_the_account_role():
    staging, production = overrides("staging"), overrides("production")

    assert staging["Environment"] == production["Environment"] == "production"
    assert (staging["ApiDocs"], production["ApiDocs"]) == ("enabled", "disabled")
    assert (staging["ManageApiGatewayAccount"], production["ManageApiGatewayAccount"]) == ("false", "true")
    assert CONFIG["production"]["deploy"]["parameters"]["confirm_changeset"] is True
