#!/usr/bin/env bash
# Starts the action server and the Rasa server on this machine and waits; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var

ACTIONS_PORT=${RIDEDESK_ACTIONS_PORT:-5055}
CONSOLE_PORT=${RIDEDESK_CONSOLE_PORT:-8080}
RASA_PORT=${RIDEDESK_RASA_PORT:-5005}
RASA_HOST=${RIDEDESK_RASA_HOST:-127.0.0.1}
token=${RIDEDESK_RASA_TOKEN:-dev-only-insecure-secret}

pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop EXIT INT TERM

echo "==> starting the action server on :$ACTIONS_PORT (log: var/actions.log)"
.venv/bin/rasa run actions --actions actions -p "$ACTIONS_PORT" >var/actions.log 2>&1 &
pids+=($!)
echo "==> starting the Rasa server on $RASA_HOST:$RASA_PORT (log: var/rasa.log)"
.venv/bin/rasa run --enable-api --auth-token "$token" -i "$RASA_HOST" -p "$RASA_PORT" \
  --model models/ridedesk.tar.gz --endpoints endpoints.yml --credentials credentials.yml \
  --cors "*" >var/rasa.log 2>&1 &
pids+=($!)
echo "==> starting the agent console and rider widget on 127.0.0.1:$CONSOLE_PORT (log: var/console.log)"
.venv/bin/python -m ridedesk.console serve --host 127.0.0.1 --port "$CONSOLE_PORT" >var/console.log 2>&1 &
pids+=($!)

for _ in $(seq 1 180); do
  if curl -fs "http://$RASA_HOST:$RASA_PORT/status?token=$token" >/dev/null 2>&1 \
     && curl -fs "http://127.0.0.1:$ACTIONS_PORT/health" >/dev/null 2>&1 \
     && curl -fs "http://127.0.0.1:$CONSOLE_PORT/healthz" >/dev/null 2>&1; then
    cat <<MSG

RideDesk is running.
  Rider chat widget: http://127.0.0.1:$CONSOLE_PORT/
  Agent console:     http://127.0.0.1:$CONSOLE_PORT/console/
                     (first time: make admin USERNAME=you  — asks for a password)
  Chat over REST:  curl -s localhost:$RASA_PORT/webhooks/rest/webhook \\
                     -d '{"sender": "demo-rider-1", "message": "车锁打不开了，车号862104573"}'
  Chat in a terminal: make shell
  Logs: var/rasa.log, var/actions.log, var/console.log.   Stop: Ctrl-C
MSG
    wait -n "${pids[@]}"
    echo "a RideDesk process stopped; see var/*.log" >&2
    exit 1
  fi
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || { echo "a process failed to start; see var/*.log" >&2; tail -20 var/rasa.log var/actions.log >&2; exit 1; }; done
  sleep 1
done
echo "RideDesk did not become ready in 180 s; see var/*.log" >&2
exit 1
