"""`python -m foundation.probe URL`: exit 0 when URL answers HTTP 200, else 1 with one line.

The container healthchecks run it (docker-compose.yml): the image has Python but no curl,
and this imports only the standard library, so a probe costs a few milliseconds.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

TIMEOUT_S = 4.0


def probe(url: str, timeout: float = TIMEOUT_S) -> str | None:
    """None when `url` answers 200; otherwise what went wrong, in one line."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - http only
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        body = exc.read(500).decode(errors="replace")
        return f"{url}: HTTP {exc.code} {body}".strip()
    except (urllib.error.URLError, OSError) as exc:
        return f"{url}: no answer ({exc})"
    return None if status == 200 else f"{url}: HTTP {status}"


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].startswith(("http://", "https://")):
        print("usage: python -m foundation.probe http://HOST:PORT/readyz", file=sys.stderr)
        return 2
    problem = probe(argv[0])
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
