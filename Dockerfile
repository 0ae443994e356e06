FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY api ./api
COPY domain ./domain
COPY persistence ./persistence
COPY subscriptions ./subscriptions
COPY workers ./workers
RUN pip install --no-cache-dir . && useradd --create-home loyalty
USER loyalty

EXPOSE 8000
# Migrations run at start; they are idempotent, so every replica may run them.
CMD ["sh", "-c", "loyalty migrate && loyalty serve --host 0.0.0.0 --port 8000"]
