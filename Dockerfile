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
COPY sfpms sfpms
COPY streams streams
COPY connectors connectors
COPY emulators emulators
COPY schemas schemas
RUN pip install --no-cache-dir --no-deps --no-build-isolation . && useradd --create-home sfpms
USER sfpms
ENTRYPOINT ["sfpms"]
