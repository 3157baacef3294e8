# protocol-bot: the bot with both chat platforms. Configure it with environment variables
# (see README.md); sessions live in /data unless PROTOCOLBOT_DATABASE says otherwise.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PROTOCOLBOT_DATABASE=/data/sessions.sqlite3

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY knowledge ./knowledge
COPY flows ./flows
RUN pip install ".[slack,telegram]" && useradd --create-home --uid 10001 bot \
    && mkdir -p /data && chown bot /data && rm -rf /app/bot /app/knowledge /app/flows
USER bot
WORKDIR /home/bot
VOLUME ["/data"]

# The knowledge base and flows must load and validate, or the container is unhealthy.
HEALTHCHECK --interval=60s --timeout=10s --start-period=20s \
    CMD protocolbot kb check > /dev/null || exit 1

CMD ["protocolbot", "--help"]
