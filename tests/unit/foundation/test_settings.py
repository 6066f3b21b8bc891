"""Settings that depend on the broker: static membership and Tansu's producer workaround."""

from __future__ import annotations

import pytest

from foundation.settings import CaptureSettings, Settings, member_id, settings_env

BOOT = "127.0.0.1:9"


def test_static_membership_is_on_by_default_with_a_stable_id() -> None:
    settings = Settings(kafka_bootstrap=BOOT)
    first, again = member_id(settings, "sink"), member_id(settings, "sink")
    assert first is not None and first == again and first.endswith("-sink")
    assert member_id(settings, "sink", "explicit") == "explicit"
    assert member_id(settings.model_copy(update={"instance_id": "conf"}), "sink") == "conf"


def test_tansu_turns_static_membership_off_unless_asked_for() -> None:
    tansu = Settings(kafka_bootstrap=BOOT, broker_engine="tansu")
    assert member_id(tansu, "worker", "explicit") is None
    forced = tansu.model_copy(update={"static_membership": True})
    assert member_id(forced, "worker") is not None


@pytest.mark.parametrize("engine", ["noida-db", "tansu"])
def test_off_means_off_whatever_the_broker(engine: str) -> None:
    settings = Settings(kafka_bootstrap=BOOT, broker_engine=engine, static_membership=False)
    assert member_id(settings, "worker", "explicit") is None


def test_tansu_producers_send_one_record_per_batch() -> None:
    assert "batch.num.messages" not in Settings(kafka_bootstrap=BOOT).producer_config()
    tansu = Settings(kafka_bootstrap=BOOT, broker_engine="tansu")
    assert tansu.producer_config()["batch.num.messages"] == 1
    tuned = tansu.model_copy(update={"kafka_producer_config": {"batch.num.messages": 10}})
    assert tuned.producer_config()["batch.num.messages"] == 10, "explicit config wins"


def test_the_choice_reaches_child_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    parent = Settings(kafka_bootstrap=BOOT, broker_engine="tansu", static_membership=False)
    for name, value in settings_env(parent).items():
        monkeypatch.setenv(name, value)
    child = Settings()
    assert (child.broker_engine, child.static_membership) == ("tansu", False)


def test_sections_survive_the_trip_to_a_child_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SFPMS_CAPTURE__POLL_INTERVAL_S", "12.5")
    monkeypatch.setenv("SFPMS_SINKS__CUSTOMPMS__LINGER_S", "0.05")
    monkeypatch.setenv("SFPMS_ENGINE__BATCH_MAX", "900")
    parent = Settings()
    for name in ("SFPMS_CAPTURE__POLL_INTERVAL_S", "SFPMS_SINKS__CUSTOMPMS__LINGER_S"):
        monkeypatch.delenv(name)
    monkeypatch.delenv("SFPMS_ENGINE__BATCH_MAX")
    for name, value in settings_env(parent).items():
        monkeypatch.setenv(name, value)
    child = Settings()
    assert child.capture.poll_interval_s == 12.5
    assert child.sinks.custompms.linger_s == 0.05
    assert child.sinks.salesforce.linger_s == 1.0
    assert child.engine.batch_max == 900


def test_an_unknown_capture_object_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="Division, Organization, Task"):
        CaptureSettings(salesforce_objects=("Account",))
