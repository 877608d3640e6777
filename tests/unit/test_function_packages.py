"""Each function's package carries every third-party package its code can import, the lazy imports included.

The dev venv has every package of every function, so a function that reaches, say, clara.domain.credits.purchases's
`import
stripe` passes every test here and fails on Lambda with an ImportError. This follows the imports (module level and
inside functions) from each function's code through the layer and checks the function's own requirements, the
layer's and the runtime's packages cover them.
"""

import ast
import sys
from pathlib import Path

import pytest

from tests.unit.test_requirements import LAYER_LOCK, pins

ROOT = Path(__file__).resolve().parents[2]
LAYER_CODE = ROOT / "layers" / "shared"
FUNCTIONS = sorted(path.parent for path in (ROOT / "functions").glob("*/app.py"))

# The Lambda runtime's own packages (python3.13): boto3 and botocore, with what they bring.
RUNTIME = {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six"}
# Import name -> the distribution that provides it, for names that differ or come with another package.
DISTRIBUTIONS = {
    "jwt": "pyjwt",
    "google": "google-auth",
    "aws_lambda_powertools": "aws-lambda-powertools",
    "email_validator": "email-validator",
    "pydantic_core": "pydantic",
    "typing_extensions": "pydantic",  # a dependency of pydantic, so installed wherever it is
    "aws_xray_sdk": "aws-lambda-powertools",  # the [tracer] extra
    "snapshot_restore_py": None,  # provided by the Lambda runtime when SnapStart restores
}
# What a function's handler loads but never runs, by reason. Keep this short: each entry is a promise to check.
NEVER_RUN = {
    # clara.domain.accounts is loaded for the profile, erasure and credits routes; enrolling or checking an
    # authenticator code (clara.domain.accounts.totp's AES-GCM and QR code) happens only on AuthFunction's routes.
    "users": {"cryptography", "segno"},
}


def imports_of(path: Path, *, lazy: bool) -> set[str]:
    """The modules `path` imports (absolute names): at module level, and with `lazy` inside functions too.
    Imports under `if TYPE_CHECKING:` are for the type checker only."""
    tree = ast.parse(path.read_text(), str(path))
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for inner in ast.walk(node)
    }
    nodes = ast.walk(tree) if lazy else iter(tree.body)
    found: set[str] = set()
    for node in nodes:
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def module_file(name: str, function: Path) -> Path | None:
    """The source of a project module (the layer's clara.* or the function's own files), else None."""
    parts = name.split(".")
    for base in (LAYER_CODE, function):
        for candidate in (base.joinpath(*parts).with_suffix(".py"), base.joinpath(*parts, "__init__.py")):
            if candidate.is_file():
                return candidate
    return None


def third_party_reach(function: Path) -> set[str]:
    """The top-level third-party packages the function's code can import: anywhere in a project module that its
    handler loads (following module-level imports), as the function may call any of that module's code. A project
    module imported only inside a function (the analyzers, which only the worker runs) is not followed."""
    seen: set[Path] = set()
    pending = sorted(function.glob("*.py"))
    outside: set[str] = set()
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        loaded = imports_of(path, lazy=False)
        for name in imports_of(path, lazy=True):
            source = module_file(name, function)
            if source is not None:
                if name in loaded:
                    pending.append(source)
            elif (
                name.split(".")[0] not in ("clara", *sys.stdlib_module_names)
                and module_file(name.split(".")[0], function) is None
            ):
                outside.add(name.split(".")[0])
    return outside


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda path: path.name)
def test_a_function_ships_every_package_its_code_can_import(function: Path) -> None:
    requirements = function / "requirements.txt"
    # What the Lambda build installs: the layer's lock and the function's (dependencies included).
    available = set(pins(LAYER_LOCK)) | (set(pins(requirements)) if requirements.exists() else set())
    missing = {
        package
        for package in third_party_reach(function)
        if package not in RUNTIME and DISTRIBUTIONS.get(package, package.replace("_", "-")) not in available | {None}
    } - NEVER_RUN.get(function.name, set())

    assert missing == set(), f"{function.name} can import {sorted(missing)} but its package does not carry them"


def test_the_check_follows_lazy_imports_into_the_layer() -> None:
    """The MCP function plugs clara.integrations.stripe_payments (stripe_buy), whose `import stripe` is inside a
    function."""
    assert "stripe" in third_party_reach(ROOT / "functions" / "mcp")


def test_two_functions_pin_a_package_at_the_same_version() -> None:
    """The dev venv installs one version of each package for every function: the tests ran on that one."""
    versions: dict[str, set[str]] = {}
    for requirements in sorted((ROOT / "functions").glob("*/requirements.txt")):
        for package, version in pins(requirements).items():
            versions.setdefault(package, set()).add(version)

    assert {package: found for package, found in versions.items() if len(found) > 1} == {}
