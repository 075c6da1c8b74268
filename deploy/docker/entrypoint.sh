#!/bin/sh
# One container, one role: `rasa` (a Rasa server instance), `actions` (an action server) or
# `migrate` (the schema at the newest revision and the catalogue imported; run once per release).
# The settings are the environment of bot/core/settings.py (README: Settings), as `python -m bot run`
# passes them; this script adds only what that command derives from them.
set -eu
role="${1:-rasa}"
case "$role" in
  rasa)
    # Which channels start follows from the settings present (channels/registry.py).
    python -m channels.registry /app/var/run/credentials.yml "${PUBLIC_BASE_URL:-http://localhost:${RASA_PORT:-5005}}"
    export SANIC_REQUEST_MAX_SIZE="${MAX_REQUEST_BYTES:-262144}"
    exec rasa run --model models/current.tar.gz --port "${RASA_PORT:-5005}" \
      --credentials /app/var/run/credentials.yml --endpoints endpoints.yml --logging-config-file logging.yml
    ;;
  actions)
    # Listens on ACTION_SERVER_HOST (0.0.0.0 in a container: the network policy or the compose
    # network keeps it private) and answers only calls with ACTION_SERVER_TOKEN.
    export SANIC_HOST="${ACTION_SERVER_HOST:-127.0.0.1}"
    exec python -m rasa_sdk --actions bot.actions --port "${ACTION_SERVER_PORT:-5055}" \
      --logging-config_file logging.yml
    ;;
  migrate)
    python -m bot db upgrade
    exec python -m bot catalog import data/catalog
    ;;
  *)
    exec "$@"
    ;;
esac
