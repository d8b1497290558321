#!/usr/bin/env bash
# Sets everything up, then runs berthd in the foreground with the example local-volume plugin enabled.
# Ctrl-C stops berthd (the plugin stays enabled and comes back at the next start).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node bin/berth.js plugin build examples/local-volume >/dev/null 2>&1
host="${BERTH_HOST:-unix:///run/berth/berth.sock}"
node bin/berthd.js -H "$host" "$@" &
berthd=$!
trap 'kill -TERM $berthd 2>/dev/null; wait $berthd' INT TERM
for _ in $(seq 100); do [[ -S ${host#unix://} ]] && break; sleep 0.1; done
berth() { node bin/berth.js -H "$host" "$@"; }
if ! berth plugin inspect example/local-volume >/dev/null 2>&1; then
  berth plugin create example/local-volume examples/local-volume/build >/dev/null
fi
berth plugin enable example/local-volume >/dev/null 2>&1 || true
berth plugin ls
cat <<MSG

berthd is running on $host with the example volume plugin. In another shell:
  docker -H $host plugin ls
  node bin/berth.js -H $host plugin logs example/local-volume
  node bin/berth.js -H $host runtime ls
Ctrl-C stops berthd.
MSG
wait $berthd
