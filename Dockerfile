# The sfpms image: every service in docker-compose.yml runs a sub-command of `sfpms`.
#
# The base image is pinned by digest (the multi-architecture index of
# python:3.11.14-slim-bookworm), so a rebuild gets the same bytes; README.md "Supply chain"
# says where the digest comes from and how to refresh it. Dependencies come from
# requirements/runtime.lock, every file checked against its hash; the project itself is then
# installed without resolving anything.
FROM python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d
WORKDIR /app
COPY requirements/runtime.lock requirements/runtime.lock
RUN pip install --no-cache-dir --require-hashes -r requirements/runtime.lock
COPY pyproject.toml README.md ./
COPY foundation foundation
COPY sfpms sfpms
COPY streams streams
COPY connectors connectors
COPY emulators emulators
COPY schemas schemas
# A fixed, non-root uid (Kubernetes' runAsUser and fsGroup name it) and a data directory it
# owns: the engine's RocksDB, CDC's TLS files and logs go to SFPMS_DATA_DIR, never into /app
# (read-only for this user). A volume mounted there inherits the directory's owner.
RUN pip install --no-cache-dir --no-deps --no-build-isolation . \
    && useradd --uid 10001 --user-group --no-create-home --home-dir /var/lib/sfpms sfpms \
    && mkdir -p /var/lib/sfpms \
    && chown sfpms:sfpms /var/lib/sfpms
ENV SFPMS_DATA_DIR=/var/lib/sfpms \
    SFPMS_METRICS_HOST=0.0.0.0 \
    PYTHONUNBUFFERED=1
VOLUME ["/var/lib/sfpms"]
USER 10001:10001
# Each service serves /readyz on its own port, so docker-compose.yml gives every service its
# healthcheck (`python -m foundation.probe http://127.0.0.1:PORT/readyz`) and Kubernetes its
# probes; the image itself declares none that could name the wrong port.
HEALTHCHECK NONE
ENTRYPOINT ["sfpms"]
