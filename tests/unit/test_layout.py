"""Nothing outside tests/ imports from tests/ (issue 14, rule 5): the benchmark and the tests share harness/.

Every Python file git knows of (tracked, or new and not ignored) outside tests/ is parsed, and each `import tests`,
`import tests.x`, `from tests import ...` or `from tests.x import ...` fails the test, listed as path:line.
"""

import ast
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def python_files_outside_tests() -> list[str]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "*.py"],
            cwd=ROOT,
            capture_output=True,
            check=True,
            text=True,
        ).stdout.split("\0")
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: nothing tracked to scan")
    return sorted(
        path for path in set(listed) if path and not path.startswith(("tests/", ".venv")) and (ROOT / path).is_file()
    )


def imports_of_tests(source: str, filename: str) -> list[int]:
    """The lines of `source` that import the `tests` package or a module in it."""
    lines = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        if any(name == "tests" or name.startswith("tests.") for name in names):
            lines.append(node.lineno)
    return lines


def test_the_check_sees_every_form_of_import():
    source = "import tests\nimport os, tests.e2e\nfrom tests import support\nfrom tests.x.y import z\n"
    assert imports_of_tests(source, "example.py") == [1, 2, 3, 4]
    assert imports_of_tests("import testsuite\nfrom harness import tests\nfrom . import tests\n", "example.py") == []


def test_the_harness_and_the_benchmark_are_scanned():
    files = python_files_outside_tests()
    assert "harness/__init__.py" in files
    assert "bench/scenarios.py" in files
    assert not [path for path in files if path.startswith("tests/")]


def test_nothing_outside_tests_imports_from_tests():
    offending = [
        f"{path}:{line}"
        for path in python_files_outside_tests()
        for line in imports_of_tests((ROOT / path).read_text(encoding="utf-8"), path)
    ]
    where = "\n".join(offending)
    assert offending == [], f"imports from tests/ outside tests/ (what they need belongs in harness/):\n{where}"
