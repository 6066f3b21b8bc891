"""Before a CLI verb runs: is what it talks to there? If not, one line says what and what to do.

Without this, a verb against a missing broker printed hundreds of librdkafka reconnect
lines for 15 s and ended in a traceback. Each verb declares what it needs (`needs`); the
CLI (sfpms/cli.py) checks those with short timeouts and quiet clients before the verb
starts, and turns a connection failure that happens later anyway into the same kind of
line (`explain`). Messages name the address tried, never a credential.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal

import httpx

from foundation.settings import Settings

Need = Literal["broker", "registry", "salesforce", "custompms"]
TIMEOUT_S = 3.0
UP_HINT = "start `sfpms up`"


class Unreachable(Exception):
    """A dependency of the verb does not answer; the message is the line to print."""


def _apis(salesforce: bool, custompms: bool) -> tuple[Need, ...]:
    return (*(("salesforce",) if salesforce else ()), *(("custompms",) if custompms else ()))


def _cdc_snapshot(_settings: Settings, args: Mapping[str, Any]) -> tuple[Need, ...]:
    from connectors.cdc.runner import resolve_entity
    from foundation.errors import ConfigError

    try:
        system = resolve_entity(str(args.get("entity")), args.get("source")).system
    except ConfigError:
        return ("broker", "registry")  # the verb itself explains the bad entity
    return ("broker", "registry", system)


def _up(settings: Settings, _args: Mapping[str, Any]) -> tuple[Need, ...]:
    """`sfpms up` starts what is not configured; what is configured must answer."""
    needs: list[Need] = []
    if settings.kafka_bootstrap:
        needs.append("broker")
    if settings.schema_registry_url:
        needs.append("registry")
    needs += _apis(settings.salesforce_url is not None, settings.custompms_url is not None)
    return tuple(needs)


Rule = Callable[[Settings, Mapping[str, Any]], tuple[Need, ...]]
BROKER: tuple[Need, ...] = ("broker",)
AVRO: tuple[Need, ...] = ("broker", "registry")

#: Verb (its command path) -> what it needs. Verbs absent here need nothing outside the
#: process (`broker`, `emulate`, `docs`, `bench`, `flows` without --validate, `status`,
#: `mapping show|diff`, `mapping validate --offline`).
RULES: dict[str, Rule] = {
    "up": _up,
    "topics create": lambda s, a: BROKER,
    "topics list": lambda s, a: BROKER,
    "registry": lambda s, a: BROKER,
    "lag": lambda s, a: BROKER,
    "dashboard": lambda s, a: BROKER,
    "links show": lambda s, a: BROKER,
    "links find": lambda s, a: BROKER,
    "links export": lambda s, a: BROKER,
    "links history": lambda s, a: AVRO,
    "dlq list": lambda s, a: AVRO,
    "dlq show": lambda s, a: AVRO,
    "dlq redrive": lambda s, a: AVRO,
    "replay": lambda s, a: AVRO,
    "cdc positions": lambda s, a: AVRO,
    "cdc run": lambda s, a: (
        AVRO
        + _apis(a.get("source") in ("salesforce", "all"), a.get("source") in ("custompms", "all"))
    ),
    "cdc snapshot": _cdc_snapshot,
    "worker": lambda s, a: AVRO + (_apis(True, True) if a.get("check_schemas") else ()),
    "sink run": lambda s, a: (
        AVRO
        + _apis(a.get("system") in ("salesforce", "all"), a.get("system") in ("custompms", "all"))
    ),
    "flows": lambda s, a: _apis(True, True) if a.get("validate") else (),
    "mapping validate": lambda s, a: () if a.get("offline") else _apis(True, True),
    "onboard": lambda s, a: AVRO + _apis(True, True),
    "backfill": lambda s, a: (
        AVRO
        + _apis(a.get("source") in ("salesforce", "both"), a.get("source") in ("custompms", "both"))
    ),
}


def needs(verb: str, settings: Settings, args: Mapping[str, Any]) -> tuple[Need, ...]:
    rule = RULES.get(verb)
    return rule(settings, args) if rule else ()


def _registry_bind(settings: Settings, args: Mapping[str, Any]) -> None:
    from sfpms.registry.auth import check_bind

    check_bind(str(args.get("host") or "127.0.0.1"), configured=bool(settings.schema_registry_user))


def _dashboard_bind(settings: Settings, args: Mapping[str, Any]) -> None:
    from sfpms.dashboard.auth import check_bind

    check_bind(str(args.get("host") or settings.metrics_host), settings)


#: Verb -> a check of its own configuration, run before anything is reached: a server that
#: would refuse to listen says so first, not "no broker" (each verb checks again itself).
CONFIGURATION: dict[str, Callable[[Settings, Mapping[str, Any]], None]] = {
    "registry": _registry_bind,
    "dashboard": _dashboard_bind,
}


def check(verb: str, settings: Settings, args: Mapping[str, Any]) -> None:
    """Raise ConfigError for a configuration the verb would refuse, then Unreachable for the
    first thing `verb` needs that does not answer."""
    configuration = CONFIGURATION.get(verb)
    if configuration is not None:
        configuration(settings, args)
    for need in needs(verb, settings, args):
        CHECKS[need](settings)


def _broker(settings: Settings) -> None:
    from confluent_kafka.admin import AdminClient

    bootstrap = settings.require_bootstrap()
    conf = {
        **settings.kafka_client_config(),
        "socket.timeout.ms": int(TIMEOUT_S * 1000),
        "log_level": 0,  # this probe's failure is the one line we print, not librdkafka's
    }
    try:
        if not any(_accepts(address) for address in bootstrap.split(",")):
            raise ConnectionRefusedError(bootstrap)  # librdkafka would wait the whole timeout
        AdminClient(conf).list_topics(timeout=TIMEOUT_S)
    except Exception as exc:
        hint = UP_HINT if settings.kafka_bootstrap is None else "check the brokers"
        raise Unreachable(f"no broker at {bootstrap}: {hint} or set SFPMS_KAFKA_BOOTSTRAP") from exc


def _accepts(address: str) -> bool:
    """Whether host:port accepts a TCP connection within a second."""
    host, _, port = address.strip().rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=1.0):
            return True
    except (OSError, ValueError):
        return False


#: Tries before a server that refuses connections counts as absent (a restart in progress).
CONNECT_TRIES = 3


def _http(
    what: str, url: str, variable: str, embedded: bool, auth: tuple[str, str] | None = None
) -> httpx.Response | None:
    """The server's answer; None when it accepted the connection but the exchange failed
    (dropped, reset, slow): it is there, and the verb's own clients retry such failures, so
    a long-running service does not exit on one (the fault suite's sinks did, under injected
    drops). Unreachable only when connecting fails, `CONNECT_TRIES` times."""
    failure: httpx.HTTPError | None = None
    for attempt in range(CONNECT_TRIES):
        if attempt:
            time.sleep(0.5 * attempt)
        try:
            # Reachability only: certificate trust is the real client's business (and its
            # error says so), so a missing emulator certificate is not reported as "no
            # server". Only the registry check sends anything: its basic-auth login.
            return httpx.get(url, timeout=TIMEOUT_S, verify=False, auth=auth)  # noqa: S501
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            failure = exc
        except httpx.HTTPError:
            return None
    hint = UP_HINT if embedded else f"check that {what} runs there"
    raise Unreachable(f"no {what} at {_origin(url)}: {hint} or set {variable}") from failure


def _registry(settings: Settings) -> None:
    """The registry answers, and to the login the verb's clients will use (HTTP basic)."""
    credentials = settings.registry_credentials()
    auth = None if credentials is None else (credentials[0], credentials[1].get_secret_value())
    embedded = settings.schema_registry_url is None
    url = settings.registry_url()
    response = _http(
        "schema registry", f"{url}/subjects", "SFPMS_SCHEMA_REGISTRY_URL", embedded, auth
    )
    if response is None or response.status_code not in (401, 403):
        return
    if embedded:
        from foundation.local_credentials import credentials_path

        where = credentials_path(settings.data_dir)
        fix = (
            f"its login is in {where}, written when it starts: run the command with the "
            "same SFPMS_DATA_DIR as `sfpms up`"
        )
    else:
        fix = "set SFPMS_SCHEMA_REGISTRY_USER and SFPMS_SCHEMA_REGISTRY_PASSWORD to its login"
    state = "refuses the configured login" if auth else "needs a login"
    raise Unreachable(f"the schema registry at {_origin(url)} {state}: {fix}")


def _origin(url: str) -> str:
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.host}" + (f":{parsed.port}" if parsed.port else "")


CHECKS: dict[Need, Callable[[Settings], object]] = {
    "broker": _broker,
    "registry": _registry,
    "salesforce": lambda s: _http(
        "Salesforce",
        f"{s.salesforce_base_url()}/services/data/",
        "SFPMS_SALESFORCE_URL",
        s.salesforce_url is None,
    ),
    "custompms": lambda s: _http(
        "Custompms API",
        f"{s.custompms_base_url()}/openapi.json",
        "SFPMS_CUSTOMPMS_URL",
        s.custompms_url is None,
    ),
}


def explain(exc: BaseException, settings: Settings) -> str | None:
    """One line for a connection failure that surfaced inside a verb, or None."""
    from confluent_kafka import KafkaError, KafkaException

    if isinstance(exc, Unreachable):
        return str(exc)
    if isinstance(exc, KafkaException) and exc.args:
        error = exc.args[0]
        transport = {KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN, KafkaError._TIMED_OUT}
        if isinstance(error, KafkaError) and error.code() in transport:
            return (
                f"the broker at {settings.require_bootstrap()} stopped answering "
                f"({error.str()}): check it, then run the command again"
            )
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout) and exc.request is not None:
        return f"no answer from {_origin(str(exc.request.url))}: check that it runs"
    cause = exc.__cause__ or exc.__context__
    return explain(cause, settings) if cause is not None and cause is not exc else None
