# protocol-bot: the bot with both chat platforms. Configure it with environment variables
# (see README.md); sessions live in /data unless PROTOCOLBOT_DATABASE says otherwise
# (a postgresql:// URL lets several containers share them).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PROTOCOLBOT_DATABASE=/data/sessions.sqlite3

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY knowledge ./knowledge
COPY flows ./flows
RUN pip install ".[slack,telegram,postgres]" && useradd --create-home --uid 10001 bot \
    && mkdir -p /data && chown bot /data && rm -rf /app/bot /app/knowledge /app/flows
USER bot
WORKDIR /home/bot
VOLUME ["/data"]

# Slack by default (Socket Mode when SLACK_APP_TOKEN is set, else HTTP on 3000): see
# docs/slack.md. /healthz answers 200 while the app is up (503 while Socket Mode is
# disconnected). For Telegram run: protocolbot serve telegram
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4)" || exit 1

CMD ["protocolbot", "serve", "slack"]
