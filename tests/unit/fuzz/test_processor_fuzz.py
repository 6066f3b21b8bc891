"""Fuzzing the engine's decoding path: `Processor.handle` on bad bytes never raises.

A real `EngineCodecs` on confluent-kafka's in-memory mock registry (no network) decodes
what arrives on every topic the engine consumes. Inputs: random bytes, valid envelopes cut
short, valid Confluent framing with an unknown schema id or a garbage body, valid Avro
records of another topic's schema, empty values, tombstones, a huge value, and valid
envelopes carrying hostile values. Every input must give a normal outcome or a dead
letter that names the record (its key), keeps the original bytes and says where it came
from; `dispatch` (decode, decide, encode the outputs) must never raise, since an exception
there would stop the Faust agent.
"""

from __future__ import annotations

import datetime as dt
import random
import struct
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foundation.deadletters import MAX_VALUE_BYTES
from foundation.kafka import topics as t
from foundation.kafka.serde import TopicCodec
from foundation.settings import Settings
from foundation.wire import LinkEvent, OpOutcome, WriteResult
from streams.core.hub import Hub, PmsLink
from streams.core.rules import Rules
from streams.engine.codecs import EngineCodecs
from streams.engine.processor import Handled, MemoryTables, Processor, Stores
from streams.engine.topology import FLOW_HEADER, Consumed
from streams.mapping.flows import FLOWS
from tests.unit.fuzz.hostile import texts

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
LINKED_SF = "00T5e00000LiNkEAAA"
LINKED_PMS = "prj_000042"
SF_TOPICS = [t.changes_topic("salesforce", e) for e in t.SALESFORCE_OBJECTS]
PMS_TOPICS = [t.changes_topic("custompms", e) for e in t.CUSTOMPMS_RESOURCES]
INPUTS = [*SF_TOPICS, *PMS_TOPICS, t.INBOX, t.RESULTS, t.ROUTES]
SETTINGS = Settings(kafka_bootstrap="127.0.0.1:9", topic_prefix="fuzz.")


class Engine:
    """A Processor over mock-registry codecs, valid sample values and link state."""

    def __init__(self) -> None:
        client = SchemaRegistryClient.new_client({"url": f"mock://{uuid.uuid4().hex}"})
        self.codecs = EngineCodecs(SETTINGS, client)
        self.processor = Processor(self.codecs, Rules(FLOWS), clock=lambda: 1_780_000_000_000)
        self.client = client
        self.valid = {topic: self.encode(topic, value) for topic, value in _samples().items()}
        self.valid[t.INBOX] = self.valid[t.changes_topic("custompms", "project")]

    def encode(self, topic: str, value: dict[str, Any]) -> bytes:
        return TopicCodec(SETTINGS, self.client, topic).encode(value)

    def stores(self) -> Stores:
        tables = MemoryTables()
        hub = Hub(LINKED_SF, "Task")
        hub.links["task_project"] = PmsLink("task_project", "linked", LINKED_PMS)
        tables.hubs[LINKED_SF] = hub
        return tables.stores

    def handle(
        self,
        topic: str,
        position: tuple[int, int],
        key: bytes | None,
        value: bytes | None,
        headers: dict[str, bytes],
    ) -> Handled:
        record = Consumed(topic, position[0], position[1], key, value, headers)
        return self.processor.handle(record, self.stores())

    def dead_letters(self, emits: list[Any]) -> list[dict[str, Any]]:
        codec = TopicCodec(SETTINGS, self.client, t.DEADLETTER)
        return [codec.decode(e.value) for e in emits if e.topic == t.DEADLETTER]


def _source(system: str, entity: str, record_id: str) -> dict[str, Any]:
    return {
        "system": system,
        "entity": entity,
        "id": record_id,
        "version": 1,
        "modstamp": NOW,
        "origin": "person",
        "seq": 1,
    }


def _samples() -> dict[str, dict[str, Any]]:
    sf: dict[str, dict[str, Any]] = {
        "task": {"Id": LINKED_SF, "Subject": "Call", "Status": "Not Started", "Priority": "Low"},
        "division": {"Id": "02d5e00000DiViSAAA", "Name": "Nordics", "IsActive": True},
        "organization": {"Id": "00D5e00000OrGaNAAA", "Name": "Org"},
    }
    pms: dict[str, dict[str, Any]] = {
        "customer": {
            "id": "cus_000001",
            "version": 1,
            "name": "Acme",
            "kind": "company",
            "active": True,
        },
        "project": {
            "id": LINKED_PMS,
            "version": 1,
            "name": "Call",
            "status": "planned",
            "priority": "low",
        },
        "task": {"id": "tsk_000001", "version": 1, "project_id": LINKED_PMS, "title": "Call"},
    }
    samples: dict[str, dict[str, Any]] = {}
    for entity, record in sf.items():
        samples[t.changes_topic("salesforce", entity)] = {
            "op": "u",
            "before": None,
            "after": record,
            "source": _source("salesforce", entity.capitalize(), record["Id"]),
            "ts_ms": NOW,
        }
    for entity, record in pms.items():
        samples[t.changes_topic("custompms", entity)] = {
            "op": "u",
            "before": None,
            "after": record,
            "source": _source("custompms", entity, record["id"]),
            "ts_ms": NOW,
        }
    at = int(NOW.timestamp() * 1000)
    link = LinkEvent(LINKED_PMS, "project", LINKED_SF, "task_project", "linked", at)
    samples[t.ROUTES] = link.to_avro()
    outcome = OpOutcome("task_project", "project", "update", "ok", LINKED_PMS, version=2)
    samples[t.RESULTS] = WriteResult("c1", LINKED_SF, "custompms", (outcome,), at).to_avro()
    return samples


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


def _bad_values(engine: Engine, topic: str) -> st.SearchStrategy[bytes | None]:
    valid = engine.valid[topic]
    others = [v for name, v in engine.valid.items() if name != topic]
    return st.one_of(
        st.binary(max_size=300),
        st.integers(0, len(valid) - 1).map(lambda n: valid[:n]),
        st.integers(0, 2**32 - 1).map(lambda sid: b"\x00" + struct.pack(">I", sid) + valid[5:]),
        st.binary(max_size=120).map(lambda body: valid[:5] + body),
        st.binary(min_size=1, max_size=8).map(lambda tail: valid + tail),
        st.sampled_from(others),
        st.just(b""),
        st.none(),
    )


def run(
    engine: Engine, topic: str, key: bytes | None, value: bytes | None, headers: dict[str, bytes]
) -> None:
    """Handle and encode one record; check the outcome and its dead letter, if any."""
    out = engine.handle(topic, (3, 1234), key, value, headers)
    emits = engine.processor.encode(out)
    letters = engine.dead_letters(emits)
    if out.event is None:
        record = (key or b"").decode(errors="replace")
        mine = [d for d in letters if d["record"] == record and d["key"] == key]
        assert len(mine) == 1, (out.effects, letters)
        letter = mine[0]
        assert (letter["stage"], letter["topic"]) == ("engine", topic)
        assert (letter["partition"], letter["offset"]) == (3, 1234)
        if value is not None and len(value) > MAX_VALUE_BYTES:
            # Bounded copy; the record itself stays at topic/partition/offset for a redrive.
            assert letter["truncated"] and letter["value_size"] == len(value)
            assert letter["value"] == value[:MAX_VALUE_BYTES]
        else:
            assert letter["value"] == value, "the original bytes must be kept for a redrive"
        assert letter["error_class"] and letter["reason"]
    for letter in letters:
        assert letter["stage"] == "engine" and letter["reason"], letter
        assert letter["record"] is not None, letter


@pytest.mark.parametrize("topic", INPUTS)
def test_the_valid_samples_the_fuzzing_starts_from_are_processed_normally(
    engine: Engine, topic: str
) -> None:
    headers = {FLOW_HEADER: b"task_project"}
    out = engine.handle(topic, (0, 1), LINKED_SF.encode(), engine.valid[topic], headers)
    assert out.event is not None, out.effects


KEYS = st.one_of(
    st.sampled_from([LINKED_SF.encode(), LINKED_PMS.encode(), b""]),
    st.binary(max_size=24),
    st.none(),
)
HEADERS = st.one_of(
    st.just({}),
    st.builds(
        lambda flow: {FLOW_HEADER: flow},
        st.one_of(st.sampled_from([f.encode() for f in FLOWS]), st.binary(max_size=10)),
    ),
)


@pytest.mark.parametrize("topic", INPUTS)
def test_malformed_bytes_on_any_input_topic_become_dead_letters_naming_the_record(
    engine: Engine, topic: str
) -> None:
    @FUZZ
    @given(key=KEYS, value=_bad_values(engine, topic), headers=HEADERS)
    def check(key: bytes | None, value: bytes | None, headers: dict[str, bytes]) -> None:
        run(engine, topic, key, value, headers)

    check()


@pytest.mark.parametrize("topic", INPUTS)
def test_a_huge_value_becomes_one_bounded_dead_letter_naming_where_it_is(
    engine: Engine, topic: str
) -> None:
    huge = engine.valid[topic][:5] + random.Random(topic).randbytes(1_000_000)
    run(engine, topic, b"huge-record", huge, {FLOW_HEADER: b"task_project"})


def _hostile_envelope(topic: str) -> st.SearchStrategy[dict[str, Any]]:
    """Valid Avro envelopes for `topic` whose string fields carry hostile text."""
    sample = _samples()[topic]
    record = dict(sample["after"])
    text_fields = [k for k, v in record.items() if isinstance(v, str) and k not in ("Id", "id")]

    def build(values: dict[str, str | None], op: str, origin: str) -> dict[str, Any]:
        after = {**record, **values}
        source = {**sample["source"], "origin": origin}
        return {
            **sample,
            "op": op,
            "after": after,
            "before": after if op == "d" else None,
            "source": source,
        }

    return st.builds(
        build,
        st.fixed_dictionaries({}, optional={k: st.one_of(st.none(), texts()) for k in text_fields}),
        st.sampled_from(["c", "u", "r", "d"]),
        st.sampled_from(["person", "sync", "unknown"]),
    )


@pytest.mark.parametrize("topic", [*SF_TOPICS, *PMS_TOPICS])
def test_valid_envelopes_with_hostile_values_are_decided_or_dead_lettered_by_field(
    engine: Engine, topic: str
) -> None:
    encode: Callable[[dict[str, Any]], bytes] = lambda value: engine.encode(topic, value)  # noqa: E731

    @FUZZ
    @given(envelope=_hostile_envelope(topic))
    def check(envelope: dict[str, Any]) -> None:
        key = envelope["source"]["id"].encode()
        out = engine.handle(topic, (0, 7), key, encode(envelope), {})
        assert out.event is not None, out.effects
        for letter in engine.dead_letters(engine.processor.encode(out)):
            assert letter["flow"] and letter["record"] and letter["field"], letter

    check()


def test_an_unreadable_record_is_explained_to_an_operator(engine: Engine) -> None:
    topic = t.changes_topic("salesforce", "task")
    out = engine.handle(topic, (3, 17), b"00T-bad", b"not avro", {})
    (letter,) = engine.dead_letters(engine.processor.encode(out))
    assert letter["flow"] is None, "no flow is known for bytes nobody could read"
    assert letter["record"] == "00T-bad"
    reason = str(letter["reason"])
    assert "00T-bad" in reason and topic in reason and "Confluent Avro frame" in reason
