"""Redaction in the log formatter: every configured secret, whatever its length, in the
message, the traceback and the stack, for every handler the formatter is given to."""

from __future__ import annotations

import io
import logging
import logging.config
import secrets
from collections.abc import Iterator

import pytest

from foundation import logs
from foundation.logs import REDACTED, RedactingFormatter, Redactor

SHORT = "sfpms"  # the product's name, and the emulator's former demo password
LONG = "Zq8vT2mXa61LpB0c"


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter(redactor=Redactor([SHORT, LONG])))
    logger = logging.getLogger("tests.redaction")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    yield logger, stream
    logger.handlers.clear()


@pytest.mark.parametrize(
    "leak",
    [
        "password=sfpms",
        "password: 'sfpms'",
        '{"password": "sfpms"}',
        "https://admin:sfpms@registry.example.com/",
        "grant_type=password&password=sfpms&client_id=x",
        "the password was sfpms.",
        "sfpms",
        "(sfpms)",
    ],
)
def test_a_five_character_secret_is_redacted_where_it_stands_alone(leak: str) -> None:
    redacted = Redactor([SHORT]).redact(leak)
    assert SHORT not in redacted
    assert REDACTED in redacted


@pytest.mark.parametrize(
    "ordinary",
    [
        "sfpms.results",
        "sfpms.commands.worker: started",
        "sfpms-worker-1 joined sfpms-engine",
        "topic sfpms_deadletter",
        'File "/app/sfpms/cli.py", line 12',
        "data in .sfpms/logs",
        "mysfpms sfpmsx",
        "admin@sfpms.local",
    ],
)
def test_a_short_secret_inside_identifiers_names_and_paths_is_left_alone(ordinary: str) -> None:
    assert Redactor([SHORT]).redact(ordinary) == ordinary


def test_a_long_secret_is_redacted_even_inside_other_text() -> None:
    redacted = Redactor([LONG]).redact(f"prefix{LONG}suffix and {LONG[:-1]}")
    assert LONG not in redacted
    assert redacted.startswith("prefix" + REDACTED + "suffix")


def test_url_and_json_escaped_forms_of_a_secret_are_redacted() -> None:
    secret = 'p@ss w/rd!"x'
    text = 'form password=p%40ss+w%2Frd%21%22x url p%40ss%20w%2Frd%21%22x json "p@ss w/rd!\\"x"'
    redacted = Redactor([secret]).redact(text)
    assert "p%40ss" not in redacted and "p@ss" not in redacted
    assert redacted.count(REDACTED) == 3


def test_basic_and_bearer_credentials_are_redacted_without_being_configured() -> None:
    text = "Authorization: Basic YWRtaW46c2ZwbXM= and Authorization: Bearer abcdefgh12345678"
    redacted = Redactor().redact(text)
    assert "YWRtaW46c2ZwbXM" not in redacted and "abcdefgh12345678" not in redacted


def test_each_line_of_a_multi_line_secret_is_redacted_on_its_own() -> None:
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\nAQEFAASCBKcwggSjAgEA\n-----END"
    redacted = Redactor([pem]).redact("bad key line MIIEvQIBADANBgkqhkiG9w0B here")
    assert "MIIEvQIBADANBgkqhkiG9w0B" not in redacted


def test_an_empty_or_blank_secret_redacts_nothing() -> None:
    assert Redactor(["", "  "]).redact("nothing to hide here") == "nothing to hide here"


def test_the_formatter_redacts_the_message_its_arguments_the_traceback_and_the_stack(
    capture: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = capture
    logger.warning("token %s and password %s", LONG, SHORT)
    try:
        raise RuntimeError(f"login failed with password {SHORT} and secret {LONG}")
    except RuntimeError:
        logger.exception("it failed", stack_info=True)
    out = stream.getvalue()
    assert "Traceback (most recent call last)" in out and "Stack (most recent call last)" in out
    assert LONG not in out
    assert f"password {SHORT}" not in out and f"password {REDACTED}" in out
    assert "tests.redaction" in out  # names are kept


def test_the_cached_exception_text_is_redacted_for_every_other_handler(
    capture: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, _stream = capture
    plain = io.StringIO()
    other = logging.StreamHandler(plain)
    other.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(other)  # after ours: it reuses the cached traceback text
    try:
        raise ValueError(f"secret {LONG}")
    except ValueError:
        logger.exception("boom")
    assert "Traceback" in plain.getvalue() and LONG not in plain.getvalue()


def test_secrets_registered_after_logging_was_set_up_are_redacted_too() -> None:
    late = "registered-later-" + secrets.token_hex(8)
    formatter = RedactingFormatter()  # the process-wide redactor
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "value %s", (late,), None)
    assert late in formatter.format(record)
    logs.register_secrets(late)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "value %s", (late,), None)
    assert late not in formatter.format(record)


def test_a_logging_config_applied_the_way_faust_applies_it_keeps_redacting() -> None:
    from mode.utils.logging import setup_logging

    secret = "faust-config-secret-0123"
    logs.register_secrets(secret)
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        setup_logging(
            loglevel="WARNING", logfile=stream, logging_config=logs.logging_config("WARNING")
        )
        assert root.handlers
        assert all(isinstance(h.formatter, RedactingFormatter) for h in root.handlers)
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
