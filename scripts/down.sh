#!/usr/bin/env bash
# Stop what scripts/up.sh started.
set -uo pipefail
cd "$(dirname "$0")/.."
for name in gunicorn worker worker-outbound beat; do
  pidfile="var/$name.pid"
  if [ -f "$pidfile" ]; then
    kill "$(cat "$pidfile")" 2>/dev/null && echo "stopped $name"
    rm -f "$pidfile"
  fi
done
