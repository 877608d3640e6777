"""The README's first journey, run as written: its `sh` blocks, in order, in one bash, against a fresh local runtime
(what `make run` serves), from a folder whose `.local/mailbox/` is the runtime's mailbox, as the README says to
run them from the root of the clone. A change of the API, the dev keys or the mailbox that breaks the journey a
newcomer copies fails here.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.runtime import ROOT

JOURNEY_TIMEOUT_SECONDS = 180


def journey_blocks(readme: str) -> list[str]:
    """The `sh` code blocks of the section "A first journey in curl", in order."""
    section = readme.split("## A first journey in curl", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.S)


def test_the_journey_has_every_step() -> None:
    script = "\n".join(journey_blocks((ROOT / "README.md").read_text()))

    for step in ("/health", "/auth/register", "/activate", "/auth/session", "/credits", "/api_key", "/agent/analysis"):
        assert step in script, f"the README's journey lost its {step} step"


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="the README's journey needs curl and jq")
def test_the_readme_journey_runs_as_written_to_a_completed_task(start_runtime, tmp_path: Path) -> None:
    runtime = start_runtime()
    clone = tmp_path / "clone"
    (clone / ".local").mkdir(parents=True)
    (clone / ".local" / "mailbox").symlink_to(runtime.mailbox_dir)
    script = "\n".join(journey_blocks((ROOT / "README.md").read_text()))
    port = runtime.base_url.rsplit(":", 1)[1]

    done = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + script],
        cwd=clone,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "PORT": port},
        capture_output=True,
        text=True,
        timeout=JOURNEY_TIMEOUT_SECONDS,
    )

    output = done.stdout
    assert done.returncode == 0, f"{output}\n{done.stderr}"
    assert '"status": "healthy"' in output
    assert re.search(r"^user_[0-9a-f]{32}$", output, flags=re.M), output
    assert re.search(r'"is_active": true', output), output
    assert re.search(r'"credits": "?100', output), output
    assert re.search(r"^task_[0-9a-f]{32}$", output, flags=re.M), output
    _, final = output.rsplit("\nCOMPLETED\n", 1)  # the loop's last status line, then the task as jq shows it
    assert '"status": "COMPLETED"' in final and '"text": "The Eiffel Tower is in Rome."' in final, output
    assert '"verdict": "UNVERIFIABLE"' in final, output
