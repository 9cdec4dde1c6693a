#!/bin/sh
# Starts Mosquitto and sends it SIGHUP whenever the broker sync bumps /mosquitto/auth/generation
# (password files, CA bundle, CRLs or device ACL changed). Mosquitto then re-reads them,
# disconnects clients whose password no longer verifies, refuses revoked certificates and
# re-applies the ACLs. Signals to this script are passed on to Mosquitto.
set -u
CONFIG="${MOSQUITTO_CONFIG:-/mosquitto/config/mosquitto.conf}"
GENERATION="${MOSQUITTO_AUTH_DIR:-/mosquitto/auth}/generation"
INTERVAL="${MOSQUITTO_RELOAD_POLL_SECONDS:-1}"

# The sync writes the auth files first; wait for them (fresh install).
while [ ! -f "$GENERATION" ]; do
  echo "run.sh: waiting for the broker sync to write $GENERATION"
  sleep 1
done

"${MOSQUITTO_BIN:-mosquitto}" -c "$CONFIG" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null' TERM INT
trap 'kill -HUP "$pid" 2>/dev/null' HUP
last="$(cat "$GENERATION" 2>/dev/null)"
while kill -0 "$pid" 2>/dev/null; do
  sleep "$INTERVAL"
  now="$(cat "$GENERATION" 2>/dev/null)"
  if [ "$now" != "$last" ]; then
    last="$now"
    kill -HUP "$pid" 2>/dev/null && echo "run.sh: auth files changed, mosquitto reloaded"
  fi
done
wait "$pid"
