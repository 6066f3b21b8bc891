"""Both emulators misbehave while people work: 5xx, 429 with Retry-After, added latency,
dropped connections and, in Salesforce, every token expiring mid-run. The end state must
still be exactly what people did, and the sync's own clients (CDC, sinks) must wait as
long as Retry-After says before sending a refused request again."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from itertools import pairwise
from pathlib import Path

import pytest

from tests.faults.scale import scale
from tests.faults.stack import FaultStack, Seen, fault_stack

#: The full form (`make faults-full`) runs for minutes; pyproject's 300 s is for one test.
pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.timeout(1200)]

#: Faults that apply a request and then drop its response (the client cannot tell whether its
#: write happened), and Salesforce's per-record UNABLE_TO_LOCK_ROW (emulators/common/faults.py).
LATER_FAULTS = {"drop_after_apply_rate": 0.03, "record_lock_rate": 0.2}

#: Measured between the 429 leaving the server and the same request arriving again; the
#: slack covers the clock reads on both ends, not a client that cut the wait short.
SLACK_S = 0.05


def _injected(stack: FaultStack) -> dict[str, dict[str, int]]:
    return {
        "salesforce": stack.live.sf.admin("GET", "/faults")["injected"],
        "custompms": stack.live.pms.admin("GET", "/faults")["injected"],
    }


def test_5xx_429_latency_drops_and_expired_tokens_lose_and_duplicate_nothing(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    form = scale()
    with fault_stack(kafka_bootstrap, tmp_path) as stack:
        live = stack.live
        workload = stack.workload(form.rng_seed("emulator-faults"), "E")
        stack.set_faults(
            error_rate=0.10,
            error_status=503,
            rate_limit_rate=0.05,
            retry_after_s=1,
            latency_ms=15,
            latency_jitter_ms=40,
            drop_rate=0.03,
            seed=form.seed,
            **LATER_FAULTS,
        )
        expired: list[int] = []

        def expire_tokens(step: int) -> None:
            if step in (form.ops // 3, 2 * form.ops // 3):
                expired.append(live.sf.admin("POST", "/expire-tokens")["expired"])

        workload.run(form.ops, pause=form.pause, tick=expire_tokens)
        injected = _injected(stack)
        stack.clear_faults()

        stack.settle(workload, form.settle_timeout, str(injected))
        for system, counts in injected.items():
            kinds = [
                "error",
                "rate_limit",
                "drop",
                *(k.removesuffix("_rate") for k in LATER_FAULTS),
            ]
            if system == "custompms":
                kinds = [k for k in kinds if k != "record_lock"]  # a Salesforce fault
            assert min(counts[k] for k in kinds) > 0, (system, counts)
        assert len(expired) == 2 and min(expired) > 0, f"tokens expired: {expired}"
        logs = [path.read_text(errors="replace") for path in live.log_dir.glob("*.log")]
        relogins = sum(log.count("session expired; logging in again") for log in logs)
        assert relogins > 0, "no sync client had to log in again"


def _retries(requests: Iterable[Seen]) -> tuple[list[tuple[Seen, Seen]], list[str]]:
    """(every 429 and the next identical request of the sync, the ones that came too soon)."""
    by_key: dict[str, list[Seen]] = defaultdict(list)
    for seen in sorted(requests, key=lambda s: s.arrived):
        if not seen.by_test:
            by_key[seen.key].append(seen)
    pairs: list[tuple[Seen, Seen]] = []
    early: list[str] = []
    for same in by_key.values():
        for refused, again in pairwise(same):
            if refused.status != 429:
                continue
            pairs.append((refused, again))
            waited = again.arrived - refused.answered
            if refused.retry_after is None or waited < float(refused.retry_after) - SLACK_S:
                early.append(
                    f"{refused.method} {refused.path}: sent again {waited:.3f}s after a 429 "
                    f"with Retry-After {refused.retry_after}"
                )
    return pairs, early


#: Which client sent a request, by path: (emulator, client) -> path fragments.
CLIENTS = {
    ("Salesforce", "CDC"): ("/queryAll",),
    ("Salesforce", "sinks"): ("/composite/sobjects", "/Custompms_Id__c/"),
    ("Custompms", "CDC"): ("/api/v1/changes",),
    ("Custompms", "sinks"): ("/batch",),
}
#: Refused requests to see per client before judging how it waited.
ENOUGH = 3


def _refused_by_client(stack: FaultStack) -> dict[tuple[str, str], int]:
    counts = dict.fromkeys(CLIENTS, 0)
    for emulator, recorder in (
        ("Salesforce", stack.sf_recorder),
        ("Custompms", stack.pms_recorder),
    ):
        for seen in recorder.requests():
            for (name, client), fragments in CLIENTS.items():
                if name == emulator and seen.status == 429 and not seen.by_test:
                    counts[(name, client)] += any(f in seen.path for f in fragments)
    return counts


def test_cdc_and_sink_clients_wait_as_long_as_retry_after_says(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    form = scale()
    with fault_stack(kafka_bootstrap, tmp_path) as stack:
        workload = stack.workload(form.rng_seed("retry-after"), "R")
        # Only the REST APIs: logins are identical requests from several processes and
        # would look like one client's retries.
        stack.set_faults(
            rate_limit_rate=0.4,
            retry_after_s=1,
            path_prefixes=["/services/data/", "/api/v1/"],
            seed=form.seed,
        )
        # People work until every client of the sync has been refused a few times.
        for _round in range(12 if form.full else 8):
            workload.run(6, pause=form.pause)
            if min(_refused_by_client(stack).values()) >= ENOUGH:
                break
        stack.clear_faults()
        stack.settle(workload, form.settle_timeout)

        refused = _refused_by_client(stack)
        assert min(refused.values()) >= ENOUGH, f"too few 429s to judge: {refused}"
        for name, recorder in (
            ("Salesforce", stack.sf_recorder),
            ("Custompms", stack.pms_recorder),
        ):
            pairs, early = _retries(recorder.requests())
            assert pairs, f"{name}: no request of the sync was sent again after a 429"
            assert not early, f"{name}: {len(early)} of {len(pairs)} retries too soon:\n" + (
                "\n".join(early[:20])
            )
