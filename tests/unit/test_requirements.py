"""A package pinned both by the layer and by a function must be the same version in both: the function's copy
(in /var/task) shadows the layer's (/opt/python), so two versions would mean the layer's code runs against
another release than the one it was tested with."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "shared" / "requirements.txt"
FUNCTIONS = sorted((ROOT / "functions").glob("*/requirements.txt"))
_PIN = re.compile(r"^\s*([A-Za-z0-9_.\-\[\],]+?)\s*==\s*([^\s#;]+)")


def pins(path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        match = _PIN.match(line)
        if match:
            found[re.sub(r"\[.*\]", "", match.group(1)).lower().replace("_", "-")] = match.group(2)
    return found


@pytest.mark.parametrize("requirements", FUNCTIONS, ids=lambda path: path.parent.name)
def test_a_function_pins_what_the_layer_pins_at_the_same_version(requirements: Path) -> None:
    layer, function = pins(LAYER), pins(requirements)

    assert {name: version for name, version in function.items() if layer.get(name, version) != version} == {}


def test_the_mcp_function_keeps_the_layers_pydantic() -> None:
    """mcp depends on pydantic; without its own pin sam build bundles the newest release with the function."""
    assert pins(ROOT / "functions" / "mcp" / "requirements.txt")["pydantic"] == pins(LAYER)["pydantic"]
