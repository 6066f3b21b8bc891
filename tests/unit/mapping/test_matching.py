"""Match values, keys and the pick a create makes among candidates (pure)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.mapping.flows import FLOWS
from streams.mapping.matching import (
    CandidateIndex,
    adopt,
    match_key_pms,
    match_key_sf,
    match_value,
    normalise_name,
    pick,
)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Acme, Inc.", "ACME Inc"),
        (dt.date(2026, 12, 1), "2026-12-01"),
        (dt.datetime(2025, 2, 13, 16, 45, 9, 381000, tzinfo=dt.UTC), "2025-02-13T16:45:09.381Z"),
        (
            dt.datetime(2025, 2, 13, 17, 45, 9, 381000, tzinfo=dt.timezone(dt.timedelta(hours=1))),
            "2025-02-13T16:45:09.381Z",
        ),
        (3.0, 3),
        (True, "true"),
        ("  Call   Acme ", "call acme"),
    ],
)
def test_values_of_either_side_compare_in_one_normal_form(left: Any, right: Any) -> None:
    assert match_value(left) == match_value(right) is not None


@pytest.mark.parametrize("empty", [None, "", "   ", "...", {}, []])
def test_empty_values_never_match(empty: Any) -> None:
    assert match_value(empty) is None


def test_a_task_and_a_project_with_the_same_subject_and_due_date_share_a_key() -> None:
    flow = FLOWS["task_project"]
    sf = {"Subject": "Call Acme!", "ActivityDate": dt.date(2026, 12, 1)}
    pms = {"name": "call acme", "due_date": dt.date(2026, 12, 1)}
    assert match_key_sf(flow, sf) == match_key_pms(flow, pms) == ("call acme", "2026 12 01")
    assert match_key_pms(flow, {**pms, "due_date": dt.date(2026, 12, 2)}) != match_key_sf(flow, sf)


def test_a_record_missing_a_criterion_has_no_key() -> None:
    assert match_key_sf(FLOWS["task_project"], {"Subject": "No date"}) is None
    assert match_key_pms(FLOWS["task_task"], {"title": "No date", "due_date": None}) is None


def test_a_create_adopts_the_candidate_of_its_kind_then_the_lowest_id() -> None:
    candidates = [
        {"id": "cus_3", "name": "Acme", "kind": "division"},
        {"id": "cus_1", "name": "ACME", "kind": "organization"},
        {"id": "cus_2", "name": "acme.", "kind": "division"},
        {"id": "cus_0", "name": "Other", "kind": "division"},
    ]
    index = CandidateIndex(candidates, ["name"])
    chosen = adopt(index, {"name": "Acme"}, {"kind": "division"}, id_field="id")
    assert chosen is not None and chosen["id"] == "cus_2"
    anyone = adopt(index, {"name": "Acme"}, {"kind": "company"}, id_field="id")
    assert anyone is not None and anyone["id"] == "cus_1"
    assert adopt(index, {"name": "Nobody"}, {}, id_field="id") is None


def test_a_create_matching_on_other_fields_than_the_index_adopts_nothing() -> None:
    index = CandidateIndex([{"id": "p1", "name": "x", "due_date": "2026-01-01"}], ["name"])
    assert adopt(index, {"name": "x", "due_date": "2026-01-01"}, {}, id_field="id") is None


def test_pick_of_no_candidates_is_none() -> None:
    assert pick([], id_field="id") is None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_normalising_twice_changes_nothing(text: str) -> None:
    once = normalise_name(text)
    assert normalise_name(once) == once
    assert once == once.strip() and "  " not in once


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=_LETTERS, min_size=1, max_size=20), st.sampled_from([",", ".", "!", ""]))
def test_case_and_trailing_punctuation_do_not_change_the_match(word: str, mark: str) -> None:
    assert match_value(f" {word.upper()}{mark} ") == match_value(word.lower())


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=8), st.permutations(range(8))
)
def test_the_pick_does_not_depend_on_the_order_candidates_arrive_in(
    names: list[str], order: list[int]
) -> None:
    candidates = [{"id": f"r{i}", "name": n} for i, n in enumerate(names)]
    shuffled = [candidates[i] for i in order if i < len(candidates)]
    one = adopt(CandidateIndex(candidates, ["name"]), {"name": "a"}, {}, id_field="id")
    two = adopt(CandidateIndex(shuffled, ["name"]), {"name": "a"}, {}, id_field="id")
    assert one == two
