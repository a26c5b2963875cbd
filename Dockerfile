# syntax=docker/dockerfile:1
# Build: the locked dependencies first (cached), then the code.
FROM python:3.11-slim AS build
ENV UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY alembic.ini ./
COPY migrations ./migrations
COPY app ./app
RUN uv sync --frozen --no-dev

# Run: no build tools, a user without privileges, migrations as the release step.
FROM python:3.11-slim
RUN useradd --create-home --uid 10001 workshop \
    && mkdir -p /data/uploads /data/inbox \
    && chown -R workshop:workshop /data
WORKDIR /app
COPY --from=build --chown=workshop:workshop /app /app
ENV PATH="/app/.venv/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    ENVIRONMENT=production \
    UPLOAD_DIR=/data/uploads \
    IMPORT_SOURCE_ROOTS=/data/inbox \
    WORKERS=2
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2).status != 200)"]
CMD ["sh", "-c", "workshop db upgrade && exec workshop serve --host 0.0.0.0 --port 8000 --workers \"$WORKERS\""]
