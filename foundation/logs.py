"""Logging set-up with a last line of defence against leaked secrets.

Code never logs secrets on purpose (they are `SecretStr`). The redacting filter also scrubs
every configured secret value, and anything shaped like a bearer token or an OAuth access
token, from each record before it is written, in case a library logs a request or a URL.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

_BEARER = re.compile(
    r"(?i)(bearer\s+|access_token=|\"access_token\":\s*\")([A-Za-z0-9._~+/!=-]{8,})"
)
REDACTED = "**********"


#: Shorter secrets are not scrubbed: they are demo values ("sfpms", the local emulator's
#: password) that also occur as ordinary words in every log line. Real deployments use long
#: secrets, which are.
MIN_REDACTED_LENGTH = 8


class RedactingFilter(logging.Filter):
    """Replace known secret values and token-shaped strings in log records."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = sorted(
            {s for s in secrets if len(s) >= MIN_REDACTED_LENGTH}, key=len, reverse=True
        )

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return _BEARER.sub(lambda m: m.group(1) + REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def configured_secrets() -> list[str]:
    """Every secret value in the current settings."""
    from pydantic import SecretStr

    from foundation.settings import get_settings

    settings = get_settings()
    values: list[str] = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            values.append(value.get_secret_value())
    return values


def configure_logging(level: int | None = None) -> None:
    """Root logging: one line per record, secrets scrubbed."""
    from foundation.settings import get_settings

    if level is None:
        level = logging.getLevelNamesMapping().get(get_settings().log_level.upper(), logging.INFO)
    handler = logging.StreamHandler()
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
    )
    handler.addFilter(RedactingFilter(configured_secrets()))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpx2", "httpcore", "aiokafka", "faust", "mode", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
