from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from flixstack.aws import dynamo
from flixstack.errors import Conflict, InvalidInput, ServiceUnavailable


def test_cursor_round_trips_a_last_evaluated_key() -> None:
    key = {"pk": {"S": "TITLE#1"}, "sk": {"S": "TITLE"}, "gsi1pk": {"S": "STATE#published"}}
    cursor = dynamo.encode_cursor(key)
    assert cursor is not None
    assert "=" not in cursor
    assert dynamo.decode_cursor(cursor) == key


def test_no_last_key_means_no_cursor() -> None:
    assert dynamo.encode_cursor(None) is None
    assert dynamo.decode_cursor(None) is None


@pytest.mark.parametrize("cursor", ["zzz", "bm90IGpzb24", "WzEsMl0", "eyJhIjpbMV19"])
def test_foreign_cursors_are_invalid_input(cursor: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        dynamo.decode_cursor(cursor)
    assert raised.value.reason == "bad_cursor"


def test_numbers_round_trip_as_python_numbers() -> None:
    item = {"year": 1999, "rating": 4.5, "tags": ["a"], "nested": {"n": 2.0}, "none": None}
    back = dynamo.from_attributes(dynamo.to_attributes(item))
    assert back == {"year": 1999, "rating": 4.5, "tags": ["a"], "nested": {"n": 2}}
    assert isinstance(back["year"], int)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("ConditionalCheckFailedException", Conflict),
        ("ValidationException", InvalidInput),
        ("ResourceNotFoundException", ServiceUnavailable),
        ("SomethingNew", ServiceUnavailable),
    ],
)
def test_client_errors_map_to_domain_errors(code: str, expected: type[Exception]) -> None:
    error = ClientError({"Error": {"Code": code, "Message": "m"}}, "PutItem")
    assert type(dynamo.domain_error(error, "title t1")) is expected
