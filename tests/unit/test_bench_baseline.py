"""bench/cold_start.py measures a baseline revision's handlers as that revision has them: its template's functions,
and its own way of creating the DynamoDB client (clara.dynamo before clara.store); instruction counts are turned
into milliseconds at the rate the floor shows in the same run."""

import shutil
import sys
from pathlib import Path

import pytest

from bench import cold_start

ROOT = Path(__file__).resolve().parents[2]


def test_today_s_handlers_create_their_client_through_the_store() -> None:
    measured = cold_start.handlers(ROOT)

    assert measured["UsersFunction"] == ("functions/users/app.py", cold_start.CREATE_DYNAMODB_CLIENT)
    assert measured["MiscFunction"] == ("functions/misc/app.py", "")
    assert measured[cold_start.FLOOR] == ("bench/handlers/floor/app.py", "")


def test_a_tree_from_before_the_store_creates_its_client_with_clara_dynamo(tmp_path: Path) -> None:
    (tmp_path / "layers/shared/clara").mkdir(parents=True)
    (tmp_path / "layers/shared/clara/dynamo.py").write_text("")
    (tmp_path / "template.yaml").write_text((ROOT / "template.yaml").read_text())

    measured = cold_start.handlers(tmp_path)

    assert measured["UsersFunction"] == ("functions/users/app.py", "import clara.dynamo; clara.dynamo.client()")
    assert set(measured) == set(cold_start.handlers(ROOT))


def test_instruction_changes_are_judged_in_ms_at_the_floors_rate() -> None:
    # The floor: 1,300 M instructions, 300 M of them the interpreter's start, in 250 ms: 0.25 ms per M.
    counts = {
        cold_start.FLOOR: (1_300_000_000, 1_300_100_000),
        "UsersFunction": (1_900_000_000, 1_840_000_000),  # +60 M = +15 ms: the allowance, within
        "AuthFunction": (2_000_000_000, 1_939_000_000),  # +61 M = +15.25 ms: over
        "MiscFunction": (1_200_000_000, 1_300_000_000),  # -100 M = -25 ms
    }

    rows = {row.name: row for row in cold_start.instruction_rows("main~1", counts, 300_000_000, floor_ms=250.0)}

    assert rows["UsersFunction"].figure == "+60.0 M = +15.0 ms (1840.0 -> 1900.0 M)"
    assert rows["UsersFunction"].verdict == "within" and rows["AuthFunction"].verdict == "OVER"
    assert rows["MiscFunction"].figure.startswith("-100.0 M = -25.0 ms") and rows["MiscFunction"].verdict == "within"
    assert rows[cold_start.FLOOR].budget == "the same code: ~0"
    assert "0.250 ms per M" in rows["UsersFunction"].section


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_the_instruction_count_of_the_same_code_is_the_same_on_every_run() -> None:
    counts = [cold_start.instructions(sys.executable, "import json; json.dumps({'a': 1})") for _ in range(2)]

    assert counts[0] == counts[1]
    assert counts[0] > cold_start.instructions(sys.executable, "pass")


def test_a_library_s_row_is_its_count_beyond_the_floor_as_a_share_of_the_floor() -> None:
    # The floor: 1,300 M instructions, 300 M of them the interpreter's start; the budget leaves 0.3 x 1,000 M.
    counts = {"pydantic: BaseModel and one model": 1_570_000_000, "PyJWT": 1_317_000_000}

    rows = {row.name: row for row in cold_start.library_rows(counts, 1_300_000_000, 300_000_000)}

    assert rows["pydantic: BaseModel and one model"].figure == "+270 M = +0.270x the floor"
    assert rows["PyJWT"].figure == "+17 M = +0.017x the floor"
    assert all(row.verdict == "no budget" for row in rows.values())
    assert "leaves +0.30x of the floor's 1000 M" in rows["PyJWT"].section


def test_each_library_is_probed_after_the_floor_and_pyjwt_with_cryptography_only_where_it_is_installed(
    tmp_path: Path,
) -> None:
    (tmp_path / "template.yaml").write_text((ROOT / "template.yaml").read_text())
    floor = tmp_path / "bench/handlers/floor/app.py"
    floor_import = f'spec_from_file_location("handler_under_test", {str(floor)!r})'

    without = cold_start.library_probes(tmp_path)
    (tmp_path / ".local/bench-functions/auth/cryptography").mkdir(parents=True)
    with_cryptography = cold_start.library_probes(tmp_path)

    assert set(without) == set(cold_start.LIBRARIES)
    assert set(with_cryptography) == {*cold_start.LIBRARIES, cold_start.PYJWT_WITH_CRYPTOGRAPHY}
    for name, code in with_cryptography.items():
        assert floor_import in code, name
        library = cold_start.LIBRARIES.get(name, "import jwt")
        assert code.index("spec.loader.exec_module(module)") < code.index(library), name
    assert str(tmp_path / ".local/bench-functions/auth") in with_cryptography[cold_start.PYJWT_WITH_CRYPTOGRAPHY]
