"""Compile the built layer, or a function's package, to bytecode: Lambda would compile it at every cold start.

Lambda mounts a layer read-only at /opt: Python cannot write the __pycache__ it would keep on a laptop, so a layer
shipped as sources alone is compiled again by every new execution environment, each module its import touches. On
a 2-core VM, UsersFunction's import took 819 ms that way against 369 ms with bytecode (docs/budgets.md, Bytecode).

    python3.13 bytecode.py <the layer's python folder> [--prefix /opt/python] [--keep-sources clara]

functions/build.mk runs it on a function's package as well (/var/task, read-only too), keeping its own modules'
sources.

* Clara's own package (clara/) keeps its sources, with bytecode beside them in __pycache__: its tracebacks quote
  their lines.
* Every other package ships bytecode only, each module's .pyc where its .py was (Python imports such a module
  without a source): with their sources as well the layer would be 24.6 MB, over its 20 MB budget (17.5 MB as built).
* unchecked-hash: the import never compares a .pyc with a source's mtime, which a zip need not keep.
* Each code object names its file as it lies in Lambda (`--prefix`), not in the build folder.

Bytecode is tied to the interpreter's version: run by another Python than the runtime's (python3.13), this warns and
leaves the sources as they are, which Lambda would compile at every cold start. A module that does not compile keeps
its source.
"""

import argparse
import py_compile
import sys
from importlib.util import cache_from_source
from pathlib import Path

OWN = ("clara",)  # the layer's own package: compiled beside its sources, which stay
LAMBDA_PYTHON = (3, 13)  # template.yaml's Runtime: python3.13


def compile_package(folder: Path, prefix: str, own: tuple[str, ...] = OWN) -> tuple[int, list[str]]:
    """(modules compiled, modules left as sources because they did not compile) under `folder`; the top-level
    packages and modules named in `own` (as in the folder: "clara", "app.py") keep their sources."""
    compiled, failed = 0, []
    for source in sorted(folder.rglob("*.py")):
        relative = source.relative_to(folder)
        keep_source = relative.parts[0] in own
        target = Path(cache_from_source(str(source))) if keep_source else source.with_suffix(".pyc")
        try:
            py_compile.compile(
                str(source),
                cfile=str(target),
                dfile=f"{prefix}/{relative.as_posix()}",
                doraise=True,
                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
            )
        except py_compile.PyCompileError:
            failed.append(relative.as_posix())
            continue
        if not keep_source:
            source.unlink()
        compiled += 1
    return compiled, failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the layer's python/ folder (or a function's), as sam build made it")
    parser.add_argument("--prefix", default="/opt/python", help="where the folder lies in Lambda")
    parser.add_argument(
        "--keep-sources", action="append", help="a top-level package or module whose sources stay (default: clara)"
    )
    args = parser.parse_args()
    version = ".".join(map(str, sys.version_info[:2]))
    if sys.version_info[:2] != LAMBDA_PYTHON:
        print(
            f"warning: bytecode: Python {version} is not Lambda's {'.'.join(map(str, LAMBDA_PYTHON))}: {args.folder} "
            "ships its sources, which Lambda compiles at every cold start",
            file=sys.stderr,
        )
        return
    compiled, failed = compile_package(args.folder, args.prefix, tuple(args.keep_sources or OWN))
    print(f"bytecode: {compiled} modules compiled for Python {version}; {len(failed)} kept as sources {failed}")


if __name__ == "__main__":
    main()
