"""What the layer and the functions install.

Each has a source, requirements.in (the top-level pins, edited by hand and installed by `make test`), and a lock,
requirements.txt beside it (made by `make lock`: every package at one version with its hashes, for Lambda's
python3.13 on arm64), which is what the Lambda build installs (sam build for a function, layers/shared/Makefile for
the layer). The lock must keep the source's pins, and a package pinned both by the layer and by a function must be
the same version in both: the function's copy (in /var/task) shadows the layer's (/opt/python), so two versions
would mean the layer's code runs against another release than the one it was tested with.
"""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
LAYER_SOURCE = ROOT / "layers" / "shared" / "requirements.in"
LAYER_LOCK = ROOT / "layers" / "shared" / "requirements.txt"
FUNCTION_SOURCES = sorted((ROOT / "functions").glob("*/requirements.in"))
SOURCES = [LAYER_SOURCE, *FUNCTION_SOURCES]
_PIN = re.compile(r"^\s*([A-Za-z0-9_.\-\[\],]+?)\s*==\s*([^\s#;\\]+)")
_LOCKED = re.compile(r"^([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.+!\-]+)((?:\s+--hash=sha256:[0-9a-f]{64})+)$")


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", re.sub(r"\[.*\]", "", name)).lower()


def pins(path: Path) -> dict[str, str]:
    """name -> version of every `name==version` line (a source's pins)."""
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        match = _PIN.match(line)
        if match:
            found[normalized(match.group(1))] = match.group(2)
    return found


def requirement_lines(path: Path) -> list[str]:
    """The requirements of a requirements file, each with its continuation lines joined, comments left out."""
    logical = re.sub(r"\\\n\s*", " ", path.read_text())
    return [line.strip() for line in logical.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def locked(path: Path) -> dict[str, str]:
    return {normalized(line.split("==")[0]): line.split("==")[1].split()[0] for line in requirement_lines(path)}


def lock_of(source: Path) -> Path:
    return source.with_suffix(".txt")


def label(path: Path) -> str:
    return path.parent.name


def test_every_source_has_a_lock_and_every_function_with_packages_a_source() -> None:
    assert all(lock_of(source).is_file() for source in SOURCES)
    unlocked = [
        path.parent.name
        for path in (ROOT / "functions").glob("*/requirements.txt")
        if requirement_lines(path) and not path.with_suffix(".in").is_file()
    ]
    assert unlocked == []


@pytest.mark.parametrize("source", SOURCES, ids=label)
def test_a_lock_keeps_every_pin_of_its_source(source: Path) -> None:
    lock = locked(lock_of(source))

    assert pins(source)  # a source without pins would make this test vacuous
    assert {name: version for name, version in pins(source).items() if lock.get(name) != version} == {}


@pytest.mark.parametrize("source", SOURCES, ids=label)
def test_every_package_of_a_lock_is_pinned_with_its_hashes(source: Path) -> None:
    lines = requirement_lines(lock_of(source))

    assert lines
    assert [line for line in lines if not _LOCKED.match(line)] == []


@pytest.mark.parametrize("source", FUNCTION_SOURCES, ids=label)
def test_a_function_pins_what_the_layer_pins_at_the_same_version(source: Path) -> None:
    layer, function = pins(LAYER_SOURCE), pins(source)

    assert {name: version for name, version in function.items() if layer.get(name, version) != version} == {}


@pytest.mark.parametrize("source", FUNCTION_SOURCES, ids=label)
def test_a_package_locked_by_the_layer_and_a_function_is_the_same_version(source: Path) -> None:
    """Dependencies too: mcp brings pydantic, stripe brings urllib3, both of which the layer has."""
    layer, function = locked(LAYER_LOCK), locked(lock_of(source))

    assert {name: version for name, version in function.items() if layer.get(name, version) != version} == {}


def test_the_mcp_function_keeps_the_layers_pydantic() -> None:
    """mcp depends on pydantic; without its own pin sam build bundles the newest release with the function."""
    assert pins(ROOT / "functions" / "mcp" / "requirements.in")["pydantic"] == pins(LAYER_SOURCE)["pydantic"]


def test_the_locks_are_made_for_the_runtime_and_architecture_of_the_template() -> None:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)  # CloudFormation's tags: not needed here
    function = yaml.load((ROOT / "template.yaml").read_text(), Loader=Loader)["Globals"]["Function"]  # noqa: S506
    version = function["Runtime"].removeprefix("python")
    platform = {"arm64": "aarch64", "x86_64": "x86_64"}[function["Architectures"][0]]
    makefile = (ROOT / "Makefile").read_text()

    assert f"--python-version {version} --python-platform {platform}-manylinux2014" in makefile
    assert f"--platform manylinux2014_{platform} --implementation cp" in (ROOT / "layers/shared/Makefile").read_text()
    assert f"--python-version {version}" in (ROOT / "layers/shared/Makefile").read_text()
