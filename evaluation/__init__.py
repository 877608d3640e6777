"""`python -m evaluation` (`make eval`): the configured analyzer's verdicts scored against labelled claims.

Importing the package first puts the layer's `clara` on sys.path, as bench/ does, so the tool runs with the same
analyzers and settings as the deployed worker without installing the layer.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for folder in (ROOT, ROOT / "layers" / "shared"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
