"""Comments, docstrings, the README and the docs cite only what is in the repository (issue 14, rule 6).

Every text file git tracks is read. A line fails when it
* names a design document kept outside the repository (the paths in OUTSIDE);
* cites `docs/<name>.md` and no such file exists, or cites `docs/<name>.md, <Section>` (the project's way of
  citing a section) and that document has no heading the words after the comma begin with;
* (Markdown files) links to a relative path that does not exist, or to an `#anchor` no heading of the target has.

And a module path (`clara/...`, `layers/...`, `functions/...`, `local_runtime/...`, `harness/...`, `tests/...`) named
in a Markdown file (the README, docs/) or a docstring must exist: `clara/` is the shared layer's package,
layers/shared/clara/. A name holding a placeholder (`functions/<group>/app.py`, `events/{name}`, `*`, `...`) is a
pattern, not a path, and is left alone.

The failure lists each offending line as path:line.
"""

import ast
import io
import re
import subprocess
import tokenize
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
THIS = Path(__file__).resolve().relative_to(ROOT).as_posix()
# Where the design lived before it was brought into docs/: a newcomer's clone has none of them.
OUTSIDE = ("../shared", "DESIGN.md", "clara-api.md")

DOCS_CITATION = re.compile(r"(?<![\w./-])docs/([\w-]+(?:/[\w-]+)*\.md)(#[\w-]+)?(?:, ([A-Z][^\n]*))?")
MARKDOWN_LINK = re.compile(r"\]\(([^()\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")
# A path into the code, up to the first character no path of the repository holds.
MODULE_PATH = re.compile(r"(?<![\w./-])(?:clara|layers|functions|local_runtime|harness|tests)/[^\s`'\"()\[\],;:|]*")
PLACEHOLDER = re.compile(r"[<>{}*$]|\.\.\.")


def tracked_text_files() -> list[str]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, text=True
        ).stdout.split("\0")
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: nothing tracked to scan")
    return [path for path in listed if path and not path.startswith(".venv/") and path != THIS]


def text_of(path: str) -> str | None:
    """The file's text, or None for a binary file or one deleted from the work tree."""
    try:
        data = (ROOT / path).read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


@cache
def headings(path: Path) -> tuple[str, ...]:
    """The headings of a Markdown file, outside code fences, as written."""
    found, fenced = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and (match := HEADING.match(line)):
            found.append(match.group(1))
    return tuple(found)


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def citation_problems(text: str) -> list[str]:
    problems = [f"cites {name}, which is outside the repository" for name in OUTSIDE if name in text]
    for match in DOCS_CITATION.finditer(text):
        document, fragment, after = ROOT / "docs" / match.group(1), match.group(2), match.group(3)
        if not document.is_file():
            problems.append(f"cites docs/{match.group(1)}, which does not exist")
            continue
        if fragment and fragment[1:] not in {anchor(heading) for heading in headings(document)}:
            problems.append(f"cites docs/{match.group(1)}{fragment}: no such heading")
        if after and not any(after.startswith(heading) for heading in headings(document)):
            problems.append(f"cites docs/{match.group(1)}, {after.split(')')[0][:40]!r}: no such section")
    return problems


def link_problems(path: str, text: str) -> list[str]:
    problems = []
    for match in MARKDOWN_LINK.finditer(text):
        target = match.group(1)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...
            continue
        file_part, _, fragment = target.partition("#")
        linked = (ROOT / path).parent / file_part if file_part else ROOT / path
        if not linked.exists():
            problems.append(f"links to {target}, which does not exist")
        elif fragment and linked.suffix == ".md" and fragment not in {anchor(h) for h in headings(linked)}:
            problems.append(f"links to {target}: no such heading")
    return problems


def module_path_problems(text: str) -> list[str]:
    problems = []
    for match in MODULE_PATH.finditer(text):
        name = match.group(0).partition("#")[0].rstrip(".!?")
        if PLACEHOLDER.search(name):
            continue
        where = ROOT / "layers" / "shared" / name if name.startswith("clara/") else ROOT / name
        if not where.exists():
            problems.append(f"names {name}, which does not exist")
    return problems


def docstrings_and_comments(source: str) -> list[tuple[int, str]]:
    """Each line of a module's docstrings (its own, its classes' and functions') and comments, with its number."""
    try:
        tree = ast.parse(source)
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (SyntaxError, tokenize.TokenError):
        return []
    found = []
    for node in ast.walk(tree):
        documented = isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        if documented and (docstring := ast.get_docstring(node, clean=False)) is not None:
            found += [(node.body[0].lineno + n, line) for n, line in enumerate(docstring.splitlines())]
    found += [(token.start[0], token.string) for token in tokens if token.type == tokenize.COMMENT]
    return found


def cited_lines(path: str, text: str) -> list[tuple[int, str]]:
    """Where a file names other files for a reader: all of a Markdown file or a configuration file (template.yaml,
    the Makefile, samconfig.toml ...), a Python file's docstrings and comments. The test fixtures name paths
    relative to themselves."""
    if path.endswith(".py"):
        return docstrings_and_comments(text)
    if path.startswith("tests/fixtures/"):
        return []
    return list(enumerate(text.splitlines(), start=1))


def test_every_module_path_named_in_the_docs_and_docstrings_exists():
    found = []
    for path in tracked_text_files():
        if (text := text_of(path)) is None:
            continue
        for number, line in cited_lines(path, text):
            found += [f"{path}:{number}: {problem}" for problem in dict.fromkeys(module_path_problems(line))]
    assert not found, "Module paths that a clone of the repository does not hold:\n" + "\n".join(found)


def test_nothing_cites_a_document_outside_the_repository_or_a_missing_one():
    found = []
    for path in tracked_text_files():
        text = text_of(path)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            problems = citation_problems(line)
            if path.endswith(".md"):
                problems += link_problems(path, line)
            found += [f"{path}:{number}: {problem}" for problem in dict.fromkeys(problems)]
    assert not found, "Citations that a clone of the repository cannot follow:\n" + "\n".join(found)


def test_the_design_documents_exist_and_the_readme_links_them():
    """The README is the way in: it links every document of docs/, the design ones and those moved out of it."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in ("architecture.md", "contract.md", "budgets.md"):
        assert (ROOT / "docs" / name).is_file(), name
    for document in sorted((ROOT / "docs").glob("*.md")):
        assert f"(docs/{document.name})" in readme, f"README.md does not link docs/{document.name}"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("see ../shared/spec/x for the rest", ["outside"]),
        ("as DESIGN.md says", ["outside"]),
        ("docs/nowhere.md, Pagination", ["does not exist"]),
        ("docs/contract.md, Pagination: limit 1..100", []),
        ("docs/contract.md, Nothing Like This", ["no such section"]),
        ("docs/contract.md#pagination", []),
        ("docs/contract.md#no-such-heading", ["no such heading"]),
        ("the layer (docs/architecture.md, which see)", []),
    ],
)
def test_the_check_itself(line: str, expected: list[str]):
    problems = citation_problems(line)
    assert len(problems) == len(expected), problems
    assert all(word in problem for word, problem in zip(expected, problems, strict=True)), problems


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("the settings model (`clara/settings.py`)", []),
        ("in layers/shared/clara/domain/credits/purchases.py.", []),
        ("functions/mcp/lambda_asgi.py, local_runtime/invoke.py and harness/runtime.py", []),
        ("see tests/unit/test_docs_citations.py::test_the_check_itself", []),
        ("`functions/<group>/app.py` and clara/...py are patterns", []),
        ("the ledger is in `clara/domain/credits/ledgers.py`", ["clara/domain/credits/ledgers.py"]),
        ("(functions/billing/app.py)", ["functions/billing/app.py"]),
        ("local_runtime/server.py and local_runtime/nowhere.py", ["local_runtime/nowhere.py"]),
        ("harness/made_up.py, tests/e2e/test_made_up.py", ["harness/made_up.py", "tests/e2e/test_made_up.py"]),
    ],
)
def test_the_module_path_check_itself(line: str, expected: list[str]):
    problems = module_path_problems(line)
    assert len(problems) == len(expected), problems
    assert all(f"names {name}," in problem for name, problem in zip(expected, problems, strict=True)), problems
