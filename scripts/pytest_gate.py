"""Run pytest and make "no tests ran" (exit code 5) a loud failure.

pytest exits 5 when it collected nothing. In CI that means a path or marker went wrong, not
that everything passed, so this wrapper says so and fails.
"""

from __future__ import annotations

import sys

import pytest

NO_TESTS_COLLECTED = 5


def main() -> int:
    code = int(pytest.main(sys.argv[1:]))
    if code == NO_TESTS_COLLECTED:
        print(
            f"pytest collected no tests for {' '.join(sys.argv[1:])!r}: "
            "a wrong path or marker? Failing on purpose.",
            file=sys.stderr,
        )
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
