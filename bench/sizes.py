"""Unzipped sizes of what `sam build` made (.aws-sam/build/<LogicalId>): the shared layer, and each function
with the layers it is deployed with, against docs/budgets.md's 20 MB for the layer and Lambda's 250 MB limit; and
whether the layer, and each function with packages, carries its modules' bytecode (layers/shared/bytecode.py),
which Lambda cannot write itself."""

from pathlib import Path
from typing import Any

from bench import ROOT
from bench.table import NOT_MEASURED, Row, verdict
from local_runtime.template import load_template

BUILD = ROOT / ".aws-sam" / "build"
MB = 1_000_000  # what `du --si` and Lambda's documented limits count in
LAYER_BUDGET = 20 * MB  # without boto3/botocore, which the Lambda runtime already has
LAMBDA_LIMIT = 250 * MB  # Lambda: a function and all its layers, unzipped
# Not counted against the layer's budget (the layer's build drops them already; a package and its .dist-info).
RUNTIME_PROVIDED = ("python/boto3", "python/botocore", "python/s3transfer")
LAYER_TYPE = "AWS::Serverless::LayerVersion"
LAMBDA_BYTECODE = "cpython-313"  # the tag of the runtime's bytecode files (python3.13)


def size(folder: Path, leaving_out: tuple[str, ...] = ()) -> int:
    """Bytes of the files under `folder`, as Lambda counts an unzipped package, but for paths starting so."""
    files = (path for path in folder.rglob("*") if path.is_file() and not path.is_symlink())
    return sum(path.stat().st_size for path in files if not path.relative_to(folder).as_posix().startswith(leaving_out))


def megabytes(count: int) -> str:
    return f"{count / MB:.1f} MB" if count >= MB / 10 else f"{count / 1000:.0f} kB"


def modules_with_bytecode(folder: Path) -> tuple[int, int]:
    """(modules, those with python3.13 bytecode) under `folder`: a module is a source, or bytecode standing alone
    in a source's place; a source's bytecode lies in __pycache__ beside it."""
    sources = list(folder.rglob("*.py"))
    alone = [path for path in folder.rglob("*.pyc") if path.parent.name != "__pycache__"]
    compiled = sum((path.parent / "__pycache__" / f"{path.stem}.{LAMBDA_BYTECODE}.pyc").is_file() for path in sources)
    return len(sources) + len(alone), compiled + len(alone)


def bytecode_row(section: str, logical_id: str) -> Row:
    modules, compiled = modules_with_bytecode(BUILD / logical_id)
    figure, budget = f"{compiled} of {modules} modules", "all (Lambda cannot write its own)"
    return Row(section, f"{logical_id}: bytecode", figure, budget, verdict(modules == compiled))


def layers_of(properties: dict[str, Any], globals_function: dict[str, Any]) -> list[str]:
    """Logical ids of the template's layers a function is deployed with (SAM adds Globals' to its own)."""
    refs = [*globals_function.get("Layers", []), *properties.get("Layers", [])]
    return [ref["Ref"] for ref in refs if isinstance(ref, dict) and "Ref" in ref]


def rows() -> list[Row]:
    template = load_template(ROOT / "template.yaml")
    section = "Built sizes, unzipped (.aws-sam/build after `make build`)"
    layers = {layer_id: size(BUILD / layer_id, RUNTIME_PROVIDED) for layer_id in template.resources_of_type(LAYER_TYPE)}
    found = [
        Row(section, f"{layer_id} (no boto3/botocore)", megabytes(bytes_), "<= 20 MB", verdict(bytes_ <= LAYER_BUDGET))
        for layer_id, bytes_ in layers.items()
    ]
    found += [bytecode_row(section, layer_id) for layer_id in layers]
    for function_id in sorted(template.functions):
        if not (BUILD / function_id).is_dir():
            found.append(Row(section, function_id, "not built", "with layers <= 250 MB", NOT_MEASURED))
            continue
        own = size(BUILD / function_id)
        properties = template.resources[function_id].get("Properties", {})
        total = own + sum(layers.get(layer_id, 0) for layer_id in layers_of(properties, template.globals_function))
        figure = f"{megabytes(own)} ({megabytes(total)} with its layers)"
        found.append(Row(section, function_id, figure, "with layers <= 250 MB", verdict(total <= LAMBDA_LIMIT)))
        if any((BUILD / function_id).glob("*.dist-info")):  # packages of its own: functions/build.mk compiles them
            found.append(bytecode_row(section, function_id))
    return found
