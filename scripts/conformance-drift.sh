#!/usr/bin/env bash
# The drift watch as a user sees it against `npm run sandbox`, with independent clients (the AWS
# CLI v1 and curl): verify drift.example.com, delete one of its DKIM CNAMEs with
# `aws route53 change-resource-record-sets`, move the virtual clock on (POST /sandbox/clock),
# and see "Email Identity Degraded" then "Email Identity Recovered" delivered and the record
# back in the zone. Starts the sandbox on free ports and always stops it. Exits non-zero on any
# failed check.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/lib/conformance-env.sh
source scripts/lib/conformance-env.sh

: >"$workdir/server.log"
SANDBOX_API_PORT=0 SANDBOX_AWS_PORT=0 SANDBOX_DNS_PORT=0 \
  node --import tsx sandbox/server.ts >"$workdir/events" 2>"$workdir/server.log" &
server_pid=$!
server_pids+=("$server_pid")
url=""
for _ in $(seq 1 200); do
  url="$(sed -n 's/^  AWS endpoint  \(http:[^ ]*\).*/\1/p' "$workdir/server.log")"
  [[ -n "$url" ]] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$workdir/server.log" >&2; echo "sandbox did not start" >&2; exit 1; }
  sleep 0.1
done
[[ -n "$url" ]] || { echo "sandbox did not report its endpoint" >&2; exit 1; }
api="$(sed -n 's/^  API           \(http:[^ ]*\).*/\1/p' "$workdir/server.log")"
echo "sandbox at $url, API at $api"

fail() { echo "not ok - $*" >&2; exit 1; }
ok() { echo "ok - $*"; }
aws_() { aws --endpoint-url "$url" --output json "$@"; }
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
identity=drift.example.com
# events_of DETAIL_TYPE FILE: the delivered events of that detail-type for the identity.
events_of() {
  curl -s -G "$api/sandbox/events" --data-urlencode "identity=$identity" \
    --data-urlencode "detail-type=$1" >"$2"
}

# Verified first, as any identity.
curl -s -XPOST "$api/identities" -H 'content-type: application/json' \
  -d "{\"EmailIdentity\":\"$identity\"}" >"$workdir/post.json"
[[ "$(json "$workdir/post.json" 'd["data"]["status"]')" == "PENDING" ]] || fail "POST /identities starts a run"
for _ in $(seq 1 300); do
  events_of "Email Identity Verified" "$workdir/verified.json"
  [[ "$(json "$workdir/verified.json" 'len(d["events"])')" == "1" ]] && break
  sleep 0.1
done
[[ "$(json "$workdir/verified.json" 'len(d["events"])')" == "1" ]] || fail "$identity is verified"
ok "$identity verified, its records written to Route 53"

# A DNS clean-up deletes one DKIM CNAME.
zone="$(aws_ route53 list-hosted-zones-by-name --dns-name example.com --query 'HostedZones[0].Id' --output text)"
aws_ route53 list-resource-record-sets --hosted-zone-id "$zone" >"$workdir/before.json"
python3 - "$workdir/before.json" "$identity" >"$workdir/change.json" <<'PY'
import json, sys
sets = [s for s in json.load(open(sys.argv[1]))["ResourceRecordSets"]
        if s["Type"] == "CNAME" and s["Name"].endswith("._domainkey." + sys.argv[2] + ".")]
assert len(sets) == 3, sets
print(json.dumps({"Changes": [{"Action": "DELETE", "ResourceRecordSet": sets[0]}]}))
PY
gone="$(json "$workdir/change.json" 'd["Changes"][0]["ResourceRecordSet"]["Name"]')"
aws_ route53 change-resource-record-sets --hosted-zone-id "$zone" --change-batch "file://$workdir/change.json" >/dev/null
[[ "$(aws_ route53 list-resource-record-sets --hosted-zone-id "$zone" \
  --query "length(ResourceRecordSets[?Name=='$gone'])" --output text)" == "0" ]] || fail "the CNAME is deleted"
ok "aws route53 change-resource-record-sets deleted $gone"

# Two hours pass (the default probe interval is an hour; a miss is probed again a minute later).
curl -s -XPOST "$api/sandbox/clock" -H 'content-type: application/json' \
  -d '{"advance_seconds":7200}' >"$workdir/clock.json"
json "$workdir/clock.json" 'd["now"]' >/dev/null || fail "POST /sandbox/clock moves the clock"
ok "POST /sandbox/clock: two virtual hours later, $(json "$workdir/clock.json" 'd["now"]')"

events_of "Email Identity Degraded" "$workdir/degraded.json"
python3 - "$workdir/degraded.json" "${gone%.}" <<'PY' || fail "one Email Identity Degraded names the missing CNAME and its repair"
import json, sys
events = json.load(open(sys.argv[1]))["events"]
assert len(events) == 1, events
detail = events[0]["detail"]
missing = [r for r in detail["diagnosis"] if r["status"] != "OK"]
assert [r["name"] for r in missing] == [sys.argv[2]] and missing[0]["status"] == "MISSING", detail
assert [r["name"] for r in detail["repair"]["repaired_records"]] == [sys.argv[2]], detail
PY
ok "Email Identity Degraded delivered: $gone MISSING, put back in Route 53"
events_of "Email Identity Recovered" "$workdir/recovered.json"
[[ "$(json "$workdir/recovered.json" 'len(d["events"])')" == "1" ]] || fail "Email Identity Recovered is delivered"
ok "Email Identity Recovered delivered"
[[ "$(aws_ route53 list-resource-record-sets --hosted-zone-id "$zone" \
  --query "length(ResourceRecordSets[?Name=='$gone'])" --output text)" == "1" ]] || fail "the CNAME is back"
ok "aws route53 list-resource-record-sets: $gone is back"
curl -s "$api/identities/$identity" >"$workdir/get.json"
[[ "$(json "$workdir/get.json" 'd["data"]["status"]')" == "VERIFIED" ]] || fail "GET says VERIFIED again"
ok "GET /identities/$identity: VERIFIED"
