#!/bin/sh
# Starts Mosquitto and applies what the broker sync writes into /mosquitto/auth whenever it bumps
# `generation`:
# - password file, CA bundle, CRLs or device ACL changed: SIGHUP. Mosquitto re-reads them,
#   disconnects clients whose password no longer verifies, refuses revoked certificates and
#   re-applies the ACLs.
# - the services' accounts (dynsec-services.json) changed: a restart, since the dynamic-security
#   plugin reads its file only at start. Devices and services reconnect; persistent sessions and
#   their queued requests are kept (persistence).
# Signals to this script are passed on to Mosquitto.
set -u
CONFIG="${MOSQUITTO_CONFIG:-/mosquitto/config/mosquitto.conf}"
AUTH="${MOSQUITTO_AUTH_DIR:-/mosquitto/auth}"
GENERATION="$AUTH/generation"
SERVICES="$AUTH/dynsec-services.json"
INTERVAL="${MOSQUITTO_RELOAD_POLL_SECONDS:-1}"

# The sync writes the auth files first; wait for them (fresh install).
while [ ! -f "$GENERATION" ]; do
  echo "run.sh: waiting for the broker sync to write $GENERATION"
  sleep 1
done

services_sum() { cksum "$SERVICES" 2>/dev/null; }

pid=""
start() {
  "${MOSQUITTO_BIN:-mosquitto}" -c "$CONFIG" &
  pid=$!
}
stopping=""
trap 'stopping=1; kill -TERM "$pid" 2>/dev/null' TERM INT
trap 'kill -HUP "$pid" 2>/dev/null' HUP

last="$(cat "$GENERATION" 2>/dev/null)"
services="$(services_sum)"
start
while kill -0 "$pid" 2>/dev/null; do
  sleep "$INTERVAL"
  now="$(cat "$GENERATION" 2>/dev/null)"
  if [ "$now" != "$last" ]; then
    last="$now"
    if [ "$(services_sum)" != "$services" ]; then
      services="$(services_sum)"
      kill -TERM "$pid" 2>/dev/null
      wait "$pid"
      [ -n "$stopping" ] && break
      start
      echo "run.sh: service accounts changed, mosquitto restarted"
    else
      kill -HUP "$pid" 2>/dev/null && echo "run.sh: auth files changed, mosquitto reloaded"
    fi
  fi
done
wait "$pid"
