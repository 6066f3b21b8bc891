# The sfpms image: every service in docker-compose.yml runs a sub-command of `sfpms`.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY sfpms sfpms
COPY streams streams
COPY connectors connectors
COPY emulators emulators
COPY schemas schemas
RUN pip install --no-cache-dir . && useradd --create-home sfpms
USER sfpms
ENTRYPOINT ["sfpms"]
