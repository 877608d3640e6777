"""layers/shared/bytecode.py compiles the built layer (and functions' packages): Lambda mounts them read-only, so
without bytecode every cold start compiles each module it imports. A fresh interpreter that may not write bytecode
imports the result as Lambda would; the script compiles for the interpreter running it, and in the build only when
that is Lambda's python3.13 (test_another_python_than_lambda_s_leaves_the_sources_and_says_so)."""

import importlib.util
import subprocess
import sys
from importlib.util import cache_from_source
from pathlib import Path

import pytest

from bench.sizes import modules_with_bytecode

ROOT = Path(__file__).resolve().parents[2]
# A build script, not a package: loaded from its file (PyPI has an unrelated package named bytecode).
_spec = importlib.util.spec_from_file_location("layer_bytecode", ROOT / "layers/shared/bytecode.py")
assert _spec is not None and _spec.loader is not None
bytecode = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bytecode)

MODULES = {
    "vendor/__init__.py": "",
    "vendor/parse.py": "def fail():\n    raise ValueError('from vendor')\n",
    "single.py": "ANSWER = 42\n",
    "clara/__init__.py": "",
    "clara/formats.py": "def fail():\n    raise ValueError('from clara')\n",
    "broken.py": "def (:\n",
}


@pytest.fixture
def layer(tmp_path: Path) -> Path:
    for name, text in MODULES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def run(layer: Path, code: str) -> str:
    """`code` in a fresh interpreter that finds only the layer and may not write bytecode (as /opt in Lambda)."""
    answer = subprocess.run(
        [sys.executable, "-B", "-c", f"import sys; sys.path.insert(0, {str(layer)!r})\n{code}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return answer.stdout.strip()


def test_other_packages_ship_bytecode_only_and_clara_keeps_its_sources(layer: Path) -> None:
    compiled, failed = bytecode.compile_package(layer, "/opt/python")

    assert (compiled, failed) == (5, ["broken.py"])
    assert not (layer / "vendor/parse.py").exists() and (layer / "vendor/parse.pyc").is_file()
    assert not (layer / "single.py").exists() and (layer / "single.pyc").is_file()
    assert (layer / "clara/formats.py").is_file() and Path(cache_from_source(str(layer / "clara/formats.py"))).is_file()
    assert (layer / "broken.py").read_text() == MODULES["broken.py"]  # left as it was: its import fails as before


def test_the_compiled_layer_imports_without_compiling_and_names_its_files_as_lambda_holds_them(layer: Path) -> None:
    bytecode.compile_package(layer, "/opt/python")

    found = run(
        layer,
        "import single, vendor.parse, clara.formats\n"
        "print(single.ANSWER, vendor.parse.__file__.endswith('vendor/parse.pyc'))\n"
        "print(vendor.parse.fail.__code__.co_filename, clara.formats.fail.__code__.co_filename)",
    )

    # clara's code names its source, where the import found it (in Lambda, under /opt/python as well).
    assert found.splitlines() == ["42 True", f"/opt/python/vendor/parse.py {layer / 'clara/formats.py'}"]
    assert not list((layer / "vendor").glob("__pycache__"))  # nothing compiled again on import


def test_bytecode_does_not_depend_on_the_sources_mtime(layer: Path) -> None:
    # A zip need not keep mtimes: hash-based bytecode that the import does not check against its source (PEP 552).
    bytecode.compile_package(layer, "/opt/python")

    for pyc in (layer / "vendor/parse.pyc", Path(cache_from_source(str(layer / "clara/formats.py")))):
        flags = int.from_bytes(pyc.read_bytes()[4:8], "little")
        assert flags == 0b01, pyc  # hash-based, unchecked


def test_the_bench_counts_the_modules_a_built_layer_carries_without_bytecode(tmp_path: Path) -> None:
    for name in ("python/clara/app.py", "python/clara/__pycache__/app.cpython-313.pyc", "python/vendor/parse.pyc"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    assert modules_with_bytecode(tmp_path) == (2, 2)

    (tmp_path / "python/clara/views.py").write_text("")  # a source Lambda would compile at every cold start
    (tmp_path / "python/clara/__pycache__/views.cpython-311.pyc").write_bytes(b"")  # another Python's: no use
    assert modules_with_bytecode(tmp_path) == (3, 2)


def test_a_function_s_own_modules_keep_their_sources_and_its_packages_ship_bytecode(layer: Path) -> None:
    # functions/build.mk: a function's package in /var/task, its own modules (app.py) beside its packages.
    (layer / "app.py").write_text("from vendor.parse import fail\n")

    compiled, _ = bytecode.compile_package(layer, "/var/task", ("app.py",))

    assert compiled == 6
    assert (layer / "app.py").is_file() and Path(cache_from_source(str(layer / "app.py"))).is_file()
    assert not (layer / "clara/formats.py").exists()  # only what is named keeps its sources
    assert run(layer, "import app; print(app.fail.__code__.co_filename)") == "/var/task/vendor/parse.py"


def test_another_python_than_lambda_s_leaves_the_sources_and_says_so(
    layer: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Bytecode is tied to the interpreter's version: another one's would be ignored in Lambda, or worse, in place of
    # a source, fail to import.
    monkeypatch.setattr(bytecode, "LAMBDA_PYTHON", (3, 99))
    monkeypatch.setattr(sys, "argv", ["bytecode.py", str(layer)])

    bytecode.main()

    assert (layer / "vendor/parse.py").is_file() and not list(layer.rglob("*.pyc"))
    assert "is not Lambda's 3.99" in capsys.readouterr().err
