"""bench/cold_start.py measures a baseline revision's handlers as that revision has them: its template's functions,
and its own way of creating the DynamoDB client (clara.dynamo before clara.store)."""

from pathlib import Path

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
