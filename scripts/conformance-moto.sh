#!/usr/bin/env bash
# Runs the Route 53 conformance tests against moto_server, an independent implementation of the
# Route 53 API: start it on a free port, wait until it answers, run the tests, always stop it.
set -euo pipefail
cd "$(dirname "$0")/.."

export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

port="${MOTO_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')}"
log="$(mktemp -t moto-route53.XXXXXX.log)"

python3 -m moto.server -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto_pid=$!
cleanup() {
  kill "$moto_pid" 2>/dev/null || true
  wait "$moto_pid" 2>/dev/null || true
  rm -f "$log"
}
trap cleanup EXIT INT TERM

# moto takes a second or two to import its services.
ready=false
for _ in $(seq 1 150); do
  if ! kill -0 "$moto_pid" 2>/dev/null; then
    echo "moto_server exited before answering:" >&2
    cat "$log" >&2
    exit 1
  fi
  if python3 -c "import urllib.request, sys; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/', timeout=1)" 2>/dev/null; then
    ready=true
    break
  fi
  sleep 0.2
done
if [ "$ready" != true ]; then
  echo "moto_server did not answer on 127.0.0.1:$port within 30 s" >&2
  cat "$log" >&2
  exit 1
fi

MOTO_ENDPOINT_URL="http://127.0.0.1:$port" \
  npx vitest run --config vitest.conformance.config.ts test/conformance/route53-*.test.ts
