"""The embedded demo creates at once; a stack against a real system keeps the safe gate."""

from __future__ import annotations

from pathlib import Path

import pytest

from foundation.settings import Settings
from sfpms.stack import demo_settings


def settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(data_dir=tmp_path, **kw)  # type: ignore[arg-type]


def test_the_embedded_demo_lets_records_older_than_the_sync_create(tmp_path: Path) -> None:
    assert demo_settings(settings(tmp_path)).create_before_onboarding is True


@pytest.mark.parametrize(
    "real", [{"salesforce_url": "https://org.example"}, {"custompms_url": "https://pms.example"}]
)
def test_a_stack_against_a_real_system_keeps_the_gate(tmp_path: Path, real: object) -> None:
    assert isinstance(real, dict)
    assert demo_settings(settings(tmp_path, **real)).create_before_onboarding is False


def test_an_explicit_setting_wins_in_the_demo(tmp_path: Path) -> None:
    explicit = settings(tmp_path, create_before_onboarding=False)
    assert demo_settings(explicit).create_before_onboarding is False
