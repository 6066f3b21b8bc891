"""HTTP API of the embedded registry: the Confluent Schema Registry REST subset.

Routes (Confluent's paths, bodies and error codes):
  POST /subjects/{s}/versions                 register -> {"id"}
  POST /subjects/{s}                          lookup -> {"subject","id","version","schema"}
  GET  /schemas/ids/{id}                      -> {"schema"}
  GET  /schemas/ids/{id}/versions             -> [{"subject","version"}]
  GET  /schemas/types                         -> ["AVRO"]
  GET  /subjects                              -> [subject]
  GET  /subjects/{s}/versions                 -> [version]
  GET  /subjects/{s}/versions/{v|latest}      -> {"subject","id","version","schema"}
  DELETE /subjects/{s}                        soft delete -> [version]
  POST /compatibility/subjects/{s}/versions/{v|latest}  -> {"is_compatible"[, "messages"]}
  GET/PUT /config, GET/PUT /config/{s}
Only Avro is supported; other schema types get 422 (42201). With `auth` every route needs
HTTP basic credentials (sfpms/registry/auth.py); `sfpms registry` always passes them. The
probes `/healthz` and `/readyz` (not Confluent routes) are the exception, as Confluent's
`authentication.skip.paths` would make them: compose, Kubernetes and `sfpms status` carry
no credentials, and the probes reveal no schema.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Body, FastAPI, Request
from fastapi.responses import JSONResponse

from foundation.health import Readiness, alive
from sfpms.registry.auth import BasicAuth, basic_auth_middleware
from sfpms.registry.compat import LEVELS, InvalidSchema, incompatibilities, parse
from sfpms.registry.log import SchemaLog
from sfpms.registry.state import RegistryState, Version, config_record, schema_record

MEDIA_TYPE = "application/vnd.schemaregistry.v1+json"


class RegistryError(Exception):
    """An error with Confluent's body: {"error_code": N, "message": "..."}."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _subject_not_found(subject: str) -> RegistryError:
    return RegistryError(404, 40401, f"Subject '{subject}' not found.")


class Registry:
    """State plus its log; every mutation is appended to the log before it is applied."""

    def __init__(self, log: SchemaLog) -> None:
        self.log = log
        self.state = RegistryState()
        self.lock = threading.Lock()
        for key, value in log.replay():
            self.state.apply(key, value)

    def _write(self, record: tuple[bytes, bytes | None]) -> None:
        self.log.append(*record)
        self.state.apply(*record)

    def register(self, subject: str, schema: str) -> int:
        with self.lock:
            existing = self.state.find(subject, schema)
            if existing is not None:
                return existing.schema_id
            previous = [v.schema for v in self.state.live_versions(subject)]
            problems = incompatibilities(schema, previous, self.state.level_for(subject))
            if problems:
                raise RegistryError(
                    409,
                    409,
                    "Schema being registered is incompatible with an earlier schema for "
                    f'subject "{subject}", details: {problems}',
                )
            version = Version(
                subject, self.state.next_version(subject), self.state.next_id(schema), schema
            )
            self._write(schema_record(version))
            return version.schema_id

    def version(self, subject: str, version: str) -> Version:
        live = self.state.live_versions(subject)
        if not live:
            raise _subject_not_found(subject)
        if version in ("latest", "-1"):
            return live[-1]
        try:
            wanted = int(version)
        except ValueError:
            raise RegistryError(
                422, 42202, "The specified version is not a valid version id."
            ) from None
        for v in live:
            if v.version == wanted:
                return v
        raise RegistryError(404, 40402, f"Version {version} not found.")

    def delete_subject(self, subject: str) -> list[int]:
        with self.lock:
            live = self.state.live_versions(subject)
            if not live:
                raise _subject_not_found(subject)
            for v in live:
                self._write(
                    schema_record(Version(v.subject, v.version, v.schema_id, v.schema, True))
                )
            return [v.version for v in live]

    def set_level(self, subject: str | None, level: str) -> None:
        with self.lock:
            self._write(config_record(subject, level))


def _schema_from(body: dict[str, Any]) -> str:
    schema_type = body.get("schemaType") or "AVRO"
    if schema_type != "AVRO":
        raise RegistryError(422, 42201, f"Schema type {schema_type} is not supported here.")
    if body.get("references"):
        raise RegistryError(422, 42201, "Schema references are not supported here.")
    schema = body.get("schema")
    if not isinstance(schema, str):
        raise RegistryError(422, 42201, "Invalid schema: 'schema' must be a string.")
    try:
        parse(schema)
    except InvalidSchema as exc:
        raise RegistryError(422, 42201, str(exc)) from exc
    return schema


def _level_from(body: dict[str, Any]) -> str:
    level = str(body.get("compatibility") or body.get("compatibilityLevel") or "").upper()
    if level not in LEVELS:
        raise RegistryError(
            422, 42203, "Invalid compatibility level. Valid values are " + ", ".join(LEVELS)
        )
    return level


def _version_body(v: Version) -> dict[str, Any]:
    return {"subject": v.subject, "version": v.version, "id": v.schema_id, "schema": v.schema}


#: Health probes, answered without credentials; they name no subject or schema.
PROBE_PATHS = frozenset({"/healthz", "/readyz"})


def create_registry_app(
    registry: Registry, readiness: Readiness | None = None, *, auth: BasicAuth | None = None
) -> FastAPI:
    """The ASGI app serving `registry`, with `/healthz` and `/readyz` (its broker answers);
    with `auth`, only to clients presenting it, the probes excepted (PROBE_PATHS).

    When the server shuts down, the log lets go of its Kafka producer: FastAPI keeps the
    app's routes (and so the registry) alive for the process's life, and a producer left
    alive past its broker logs a reconnect error every second until the process exits.
    """

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            close = getattr(registry.log, "close", None)
            if close is not None:
                close()

    app = FastAPI(
        title="sfpms embedded schema registry",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    if auth is not None:
        app.middleware("http")(basic_auth_middleware(auth, open_paths=PROBE_PATHS))

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        status, body = alive()
        return JSONResponse(body, status_code=status)

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        status, body = readiness.report() if readiness else (200, {"ready": True, "checks": {}})
        return JSONResponse(body, status_code=status)

    def reply(content: Any, status: int = 200) -> JSONResponse:
        return JSONResponse(content, status_code=status, media_type=MEDIA_TYPE)

    @app.exception_handler(RegistryError)
    async def on_registry_error(_request: Request, exc: RegistryError) -> JSONResponse:
        return reply({"error_code": exc.code, "message": exc.message}, exc.status)

    @app.get("/")
    def root() -> JSONResponse:
        return reply({})

    @app.get("/subjects")
    def subjects() -> JSONResponse:
        return reply(registry.state.subjects())

    @app.post("/subjects/{subject}/versions")
    def register(subject: str, body: dict[str, Any] = Body(...)) -> JSONResponse:  # noqa: B008
        return reply({"id": registry.register(subject, _schema_from(body))})

    @app.post("/subjects/{subject}")
    def lookup(subject: str, body: dict[str, Any] = Body(...)) -> JSONResponse:  # noqa: B008
        schema = _schema_from(body)
        if not registry.state.live_versions(subject):
            raise _subject_not_found(subject)
        found = registry.state.find(subject, schema)
        if found is None:
            raise RegistryError(404, 40403, "Schema not found")
        return reply(_version_body(found))

    @app.get("/subjects/{subject}/versions")
    def versions(subject: str) -> JSONResponse:
        live = registry.state.live_versions(subject)
        if not live:
            raise _subject_not_found(subject)
        return reply([v.version for v in live])

    @app.get("/subjects/{subject}/versions/{version}")
    def get_version(subject: str, version: str) -> JSONResponse:
        return reply(_version_body(registry.version(subject, version)))

    @app.get("/subjects/{subject}/versions/{version}/schema")
    def get_version_schema(subject: str, version: str) -> JSONResponse:
        return reply(parse(registry.version(subject, version).schema).to_json())

    @app.delete("/subjects/{subject}")
    def delete_subject(subject: str) -> JSONResponse:
        return reply(registry.delete_subject(subject))

    @app.get("/schemas/ids/{schema_id}")
    def schema_by_id(schema_id: int) -> JSONResponse:
        schema = registry.state.schemas_by_id.get(schema_id)
        if schema is None:
            raise RegistryError(404, 40403, "Schema not found")
        return reply({"schema": schema})

    @app.get("/schemas/ids/{schema_id}/versions")
    def versions_by_id(schema_id: int) -> JSONResponse:
        if schema_id not in registry.state.schemas_by_id:
            raise RegistryError(404, 40403, "Schema not found")
        pairs = [
            {"subject": v.subject, "version": v.version}
            for subject in registry.state.subjects()
            for v in registry.state.live_versions(subject)
            if v.schema_id == schema_id
        ]
        return reply(pairs)

    @app.get("/schemas/types")
    def schema_types() -> JSONResponse:
        return reply(["AVRO"])

    @app.post("/compatibility/subjects/{subject}/versions/{version}")
    def compatibility(
        subject: str,
        version: str,
        body: dict[str, Any] = Body(...),  # noqa: B008
        verbose: bool = False,
    ) -> JSONResponse:
        schema = _schema_from(body)
        live = registry.state.live_versions(subject)
        if not live:
            raise _subject_not_found(subject)
        level = registry.state.level_for(subject)
        if version in ("latest", "-1"):
            against = [v.schema for v in live]
        else:
            target = registry.version(subject, version)
            against = [target.schema]
            level = level.replace("_TRANSITIVE", "")
        problems = incompatibilities(schema, against, level)
        result: dict[str, Any] = {"is_compatible": not problems}
        if verbose:
            result["messages"] = problems
        return reply(result)

    @app.get("/config")
    def get_global_config() -> JSONResponse:
        return reply({"compatibilityLevel": registry.state.global_level})

    @app.put("/config")
    def put_global_config(body: dict[str, Any] = Body(...)) -> JSONResponse:  # noqa: B008
        level = _level_from(body)
        registry.set_level(None, level)
        return reply({"compatibility": level})

    @app.get("/config/{subject}")
    def get_subject_config(subject: str, defaultToGlobal: bool = False) -> JSONResponse:
        level = registry.state.subject_levels.get(subject)
        if level is None:
            if not defaultToGlobal:
                raise RegistryError(
                    404,
                    40408,
                    f"Subject '{subject}' does not have subject-level compatibility configured",
                )
            level = registry.state.global_level
        return reply({"compatibilityLevel": level})

    @app.put("/config/{subject}")
    def put_subject_config(subject: str, body: dict[str, Any] = Body(...)) -> JSONResponse:  # noqa: B008
        level = _level_from(body)
        registry.set_level(subject, level)
        return reply({"compatibility": level})

    return app
