"""The emulator's value rules, patch semantics and store, without HTTP."""

from __future__ import annotations

import random

import pytest

from emulators.custompms.db import decode_cursor, encode_cursor
from emulators.custompms.errors import ApiError
from emulators.custompms.resources import EMPTY_ADDRESS, apply_patch
from emulators.custompms.seed import seed
from emulators.custompms.store import Store
from emulators.custompms.values import Clock, normalize_date, normalize_datetime


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T12:00:00Z", "2024-05-01T12:00:00.000Z"),
        ("2024-05-01t12:00:00.9999z", "2024-05-01T12:00:00.999Z"),
        ("2024-05-01T23:30:00-01:00", "2024-05-02T00:30:00.000Z"),
        ("2016-12-31T23:59:60Z", "2016-12-31T23:59:59.999Z"),
    ],
)
def test_datetimes_are_normalized_to_utc_milliseconds(text: str, expected: str) -> None:
    assert normalize_datetime(text) == expected


@pytest.mark.parametrize(
    "text", ["2024-05-01T12:00:00", "2024-13-01T00:00:00Z", "0000-01-01T00:00:00Z", "now"]
)
def test_datetimes_without_offset_or_impossible_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        normalize_datetime(text)


def test_dates_must_be_real_calendar_dates() -> None:
    assert normalize_date("2024-02-29") == "2024-02-29"
    for bad in ("2023-02-29", "2024-2-1", "\uff12\uff10\uff12\uff14-01-01"):
        with pytest.raises(ValueError):
            normalize_date(bad)


def test_the_clock_never_goes_back_before_a_stored_timestamp() -> None:
    clock = Clock()
    clock.observe("2999-01-01T00:00:00.000+00:00")
    assert clock.now() == "2999-01-01T00:00:00.000Z"


def test_patches_merge_address_fields_and_a_null_address_clears_it() -> None:
    current = {"name": "A", "address": {**EMPTY_ADDRESS, "city": "Oslo", "country": "NO"}}
    merged = apply_patch(current, {"address": {"city": None, "street": "1 Gate"}, "name": "B"})
    assert merged["address"] == {**EMPTY_ADDRESS, "street": "1 Gate", "country": "NO"}
    assert merged["name"] == "B" and current["name"] == "A"
    assert apply_patch(current, {"address": None})["address"] == EMPTY_ADDRESS


def test_cursors_only_decode_in_the_listing_mode_that_issued_them() -> None:
    cursor = encode_cursor({"m": "id", "n": 7})
    assert decode_cursor(cursor, "id") == {"m": "id", "n": 7}
    for bad, mode in [(cursor, "updated"), ("!!", "id"), (encode_cursor({"m": "id"}), "id")]:
        with pytest.raises(ApiError) as caught:
            decode_cursor(bad, mode)
        assert (caught.value.status, caught.value.field) == (400, "cursor")


def test_a_failed_write_consumes_neither_an_id_nor_a_feed_seq() -> None:
    store = Store(None)
    with pytest.raises(ApiError):
        store.create("tasks", {"project_id": "prj_000001", "title": "T"}, "sfpms")
    project = store.create("projects", {"name": "P"}, "sfpms").record
    changes, after = store.changes(0, 10)
    assert project["id"] == "prj_000001"
    assert [c["seq"] for c in changes] == [1] and after == 1


def test_the_seed_is_deterministic_and_references_live_records() -> None:
    first, second = Store(None), Store(None)
    counts = seed(first, random.Random(7))
    seed(second, random.Random(7))

    def content(store: Store, resource: str) -> list[dict[str, object]]:
        page = store.list_page(resource, limit=1000)
        return [{k: v for k, v in r.items() if not k.endswith("_at")} for r in page.items]

    assert counts == {"customers": 10, "projects": 20, "tasks": 100}
    for resource in counts:
        assert content(first, resource) == content(second, resource)
    customer_ids = {r["id"] for r in content(first, "customers")}
    assert {p["customer_id"] for p in content(first, "projects")} <= customer_ids
