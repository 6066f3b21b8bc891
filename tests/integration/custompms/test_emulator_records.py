"""CRUD, validation, auth, paging and delete rules of the Custompms emulator over real HTTP."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest

from tests.integration.custompms.support import RunningEmulator

pytestmark = pytest.mark.integration

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def make_project(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    response = api.post("/projects", json={"name": "Launch", **fields})
    assert response.status_code == 201, response.text
    return dict(response.json())


def make_task(api: httpx.Client, project_id: str, **fields: Any) -> dict[str, Any]:
    response = api.post("/tasks", json={"project_id": project_id, "title": "Do it", **fields})
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_created_records_get_prefixed_ids_version_one_defaults_and_ms_utc_timestamps(
    api: httpx.Client,
) -> None:
    customer = api.post("/customers", json={"name": "Acme"}).json()
    project = make_project(api, customer_id=customer["id"])
    task = make_task(api, project["id"])

    assert (customer["id"], project["id"], task["id"]) == ("cus_000001", "prj_000001", "tsk_000001")
    assert customer["version"] == project["version"] == task["version"] == 1
    assert customer["kind"] == "company" and customer["active"] is True
    assert customer["address"] == dict.fromkeys(
        ["street", "city", "state", "postal_code", "country"]
    )
    assert (project["status"], project["priority"]) == ("planned", "medium")
    assert (task["status"], task["priority"], task["completed_at"]) == ("todo", "medium", None)
    for record in (customer, project, task):
        assert (
            TIMESTAMP.match(record["created_at"]) and record["updated_at"] == record["created_at"]
        )
        assert record["deleted_at"] is None
    assert api.get(f"/tasks/{task['id']}").json() == task


def test_completed_at_is_stored_in_utc_with_milliseconds(api: httpx.Client) -> None:
    project = make_project(api)
    task = make_task(api, project["id"], completed_at="2024-05-01T14:30:00.123456+02:00")
    assert task["completed_at"] == "2024-05-01T12:30:00.123Z"


def test_patch_merges_address_field_by_field_and_null_clears_a_field(api: httpx.Client) -> None:
    created = api.post(
        "/customers",
        json={
            "name": "Acme",
            "email": "a@acme.test",
            "address": {"city": "Paris", "country": "FR"},
        },
    ).json()

    response = api.patch(
        f"/customers/{created['id']}",
        json={"address": {"street": "1 Rue", "city": None}, "email": None},
    )

    assert response.status_code == 200
    updated = response.json()
    assert updated["address"] == {
        "street": "1 Rue",
        "city": None,
        "state": None,
        "postal_code": None,
        "country": "FR",
    }
    assert updated["email"] is None and updated["name"] == "Acme"
    assert updated["version"] == 2 and updated["updated_at"] >= created["updated_at"]
    assert response.headers["ETag"] == '"2"'


def test_patch_with_null_address_clears_every_address_field(api: httpx.Client) -> None:
    created = api.post("/customers", json={"name": "A", "address": {"city": "Oslo"}}).json()
    updated = api.patch(f"/customers/{created['id']}", json={"address": None}).json()
    assert set(updated["address"].values()) == {None}


def test_a_patch_that_changes_nothing_keeps_the_version_and_logs_no_change(
    api: httpx.Client,
) -> None:
    created = api.post("/customers", json={"name": "Acme", "kind": "division"}).json()
    same = api.patch(f"/customers/{created['id']}", json={"kind": "division"}).json()
    assert same == created
    assert len(api.get("/changes").json()["changes"]) == 1


def test_if_match_mismatch_on_patch_and_delete_is_412_version_mismatch(api: httpx.Client) -> None:
    created = api.post("/customers", json={"name": "Acme"}).json()
    path = f"/customers/{created['id']}"
    assert api.patch(path, json={"name": "B"}, headers={"If-Match": '"1"'}).status_code == 200

    stale_patch = api.patch(path, json={"name": "C"}, headers={"If-Match": "1"})
    stale_delete = api.delete(path, headers={"If-Match": '"1"'})

    for response in (stale_patch, stale_delete):
        assert response.status_code == 412
        assert response.json()["error"]["code"] == "version_mismatch"
        assert response.json()["error"]["field"] == "If-Match"
    assert api.get(path).json()["name"] == "B"
    assert api.delete(path, headers={"If-Match": "2"}).status_code == 204


@pytest.mark.parametrize(
    ("resource", "body", "field", "code"),
    [
        ("customers", {}, "name", "required"),
        ("customers", {"name": "x" * 256}, "name", "too_long"),
        ("customers", {"name": "   "}, "name", "blank"),
        ("customers", {"name": "A", "active": "yes"}, "active", "invalid_value"),
        ("customers", {"name": "A", "colour": "red"}, "colour", "unknown_field"),
        ("customers", {"name": "A", "address": {"city": 5}}, "address.city", "invalid_value"),
        ("customers", {"name": None}, "name", "null_not_allowed"),
        ("projects", {"name": "P", "status": "done"}, "status", "invalid_choice"),
        ("projects", {"name": "P", "due_date": "2024-02-30"}, "due_date", "invalid_format"),
        (
            "projects",
            {"name": "P", "customer_id": "cus_999999"},
            "customer_id",
            "unknown_reference",
        ),
        ("tasks", {"title": "T"}, "project_id", "required"),
        ("tasks", {"project_id": "prj_999999", "title": "T"}, "project_id", "unknown_reference"),
    ],
)
def test_invalid_creates_are_422_naming_the_field(
    api: httpx.Client, resource: str, body: dict[str, Any], field: str, code: str
) -> None:
    response = api.post(f"/{resource}", json=body)

    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["field"], error["code"]) == (field, code)
    assert field in error["message"]


def test_an_invalid_patch_is_422_and_changes_nothing(api: httpx.Client) -> None:
    project = make_project(api)
    task = make_task(api, project["id"])
    response = api.patch(f"/tasks/{task['id']}", json={"title": "ok", "status": "finished"})
    assert response.status_code == 422 and response.json()["error"]["field"] == "status"
    assert api.get(f"/tasks/{task['id']}").json() == task


def test_malformed_json_and_bad_parameters_are_400(api: httpx.Client) -> None:
    bad_json = api.post(
        "/customers", content=b'{"name": ', headers={"Content-Type": "application/json"}
    )
    not_object = api.post("/customers", json=["Acme"])
    bad_limit = api.get("/customers", params={"limit": 0})
    bad_since = api.get("/customers", params={"updated_since": "yesterday"})
    bad_cursor = api.get("/customers", params={"cursor": "bm9wZQ"})

    assert bad_json.json()["error"]["code"] == "malformed_json"
    assert not_object.json()["error"]["code"] == "malformed_body"
    assert bad_limit.json()["error"]["field"] == "limit"
    assert bad_since.json()["error"]["field"] == "updated_since"
    assert bad_cursor.json()["error"]["field"] == "cursor"
    for response in (bad_json, not_object, bad_limit, bad_since, bad_cursor):
        assert response.status_code == 400


def test_requests_without_a_token_or_with_a_wrong_one_are_401(emulator: RunningEmulator) -> None:
    with emulator.http(token=None) as anonymous, emulator.http(token="not-a-token") as wrong:
        responses = [
            anonymous.get("/customers"),
            wrong.get("/changes"),
            wrong.post("/tasks", json={}),
        ]
    for response in responses:
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_ids_are_404_not_found(api: httpx.Client) -> None:
    for response in (
        api.get("/customers/cus_000042"),
        api.patch("/projects/prj_000042", json={"name": "x"}),
        api.delete("/tasks/tsk_000042"),
        api.get("/customers/prj_000001"),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_listing_pages_by_id_and_by_updated_since_reach_every_record_once(
    api: httpx.Client,
) -> None:
    operations = [{"op": "create", "data": {"name": f"C{i:03d}"}} for i in range(100)]
    for _ in range(3):
        assert api.post("/customers/batch", json={"operations": operations}).status_code == 200

    def collect(params: dict[str, Any]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for _ in range(20):
            page = api.get("/customers", params=params).json()
            items.extend(page["items"])
            if page["next_cursor"] is None:
                return items
            params = {**params, "cursor": page["next_cursor"]}
        raise AssertionError("paging did not end")

    by_id = collect({"limit": 70})
    by_update = collect({"limit": 70, "updated_since": "2000-01-01T00:00:00Z"})

    assert [r["id"] for r in by_id] == [f"cus_{n:06d}" for n in range(1, 301)]
    assert sorted(r["id"] for r in by_update) == [r["id"] for r in by_id]
    keys = [(r["updated_at"], r["id"]) for r in by_update]
    assert keys == sorted(keys)


def test_updated_since_returns_only_records_changed_at_or_after_it(api: httpx.Client) -> None:
    old = api.post("/customers", json={"name": "Old"}).json()
    time.sleep(0.01)
    fresh = api.post("/customers", json={"name": "Fresh"}).json()
    touched = api.patch(f"/customers/{old['id']}", json={"notes": "touched"}).json()

    items = api.get("/customers", params={"updated_since": fresh["updated_at"]}).json()["items"]

    assert [r["id"] for r in items] == [fresh["id"], touched["id"]]


def test_customer_name_filter_is_case_insensitive_exact_after_trimming(api: httpx.Client) -> None:
    for name in ("Acme Corp", "acme corp ", "Acme Corporation", "Other"):
        api.post("/customers", json={"name": name, "kind": "organization"})

    matches = api.get("/customers", params={"name": "  ACME CORP"}).json()["items"]
    organizations = api.get("/customers", params={"kind": "organization"}).json()["items"]

    assert [r["name"] for r in matches] == ["Acme Corp", "acme corp "]
    assert len(organizations) == 4


def test_deleting_a_project_with_tasks_is_409_unless_cascade(api: httpx.Client) -> None:
    project = make_project(api)
    tasks = [make_task(api, project["id"]) for _ in range(2)]

    refused = api.delete(f"/projects/{project['id']}")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "has_dependents"
    assert api.get(f"/tasks/{tasks[0]['id']}").status_code == 200

    assert api.delete(f"/projects/{project['id']}", params={"cascade": "true"}).status_code == 204
    for task in tasks:
        assert api.get(f"/tasks/{task['id']}").status_code == 404
    ops = [(c["op"], c["id"]) for c in api.get("/changes").json()["changes"][-3:]]
    assert ops == [
        ("delete", tasks[0]["id"]),
        ("delete", tasks[1]["id"]),
        ("delete", project["id"]),
    ]


def test_deleted_records_are_404_but_listed_as_tombstones_with_include_deleted(
    api: httpx.Client,
) -> None:
    created = api.post("/customers", json={"name": "Gone"}).json()
    assert api.delete(f"/customers/{created['id']}").status_code == 204

    assert api.get(f"/customers/{created['id']}").status_code == 404
    assert api.get("/customers").json()["items"] == []
    tombstones = api.get("/customers", params={"include_deleted": "true"}).json()["items"]
    assert len(tombstones) == 1
    assert tombstones[0]["version"] == 2 and tombstones[0]["deleted_at"] is not None
    assert tombstones[0]["updated_at"] == tombstones[0]["deleted_at"]
    assert api.delete(f"/customers/{created['id']}").status_code == 404
