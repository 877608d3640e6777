"""`python -m bench`: the figures of docs/budgets.md, each beside its budget, in one table.

The layer's package is importable as `clara` here, as it is in Lambda (/opt/python) and under pytest
(pyproject.toml's pythonpath), so the in-process measurements can load the real handlers; the repository's root
holds `harness`, the drivers the tests share with the benchmark.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for folder in (ROOT, ROOT / "layers" / "shared"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
