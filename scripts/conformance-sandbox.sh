#!/usr/bin/env bash
# Conformance of the sandbox's emulated AWS services with independent clients: this machine's
# AWS CLI v1 and boto3. Starts the emulators (sandbox/aws/serve-emulators.ts) on free ports,
# drives them, and always stops them. Exits non-zero on any failed check.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/lib/conformance-env.sh
source scripts/lib/conformance-env.sh

SANDBOX_AWS_PORT=0 SANDBOX_DNS_PORT=0 node --import tsx sandbox/aws/serve-emulators.ts >"$workdir/ready" 2>"$workdir/server.log" &
server_pid=$!
for _ in $(seq 1 100); do
  [[ -s "$workdir/ready" ]] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$workdir/server.log" >&2; echo "emulators did not start" >&2; exit 1; }
  sleep 0.1
done
[[ -s "$workdir/ready" ]] || { echo "emulators did not report ready" >&2; exit 1; }
url="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["awsUrl"])' "$workdir/ready")"
echo "emulators at $url"

fail() { echo "not ok - $*" >&2; exit 1; }
ok() { echo "ok - $*"; }
aws_() { aws --endpoint-url "$url" --output json "$@"; }

# SES v2: create and get an identity, with tokens.
aws_ sesv2 create-email-identity --email-identity cli.example.com >"$workdir/create.json"
python3 - "$workdir/create.json" <<'PY' || fail "aws sesv2 create-email-identity returns three tokens"
import json, re, sys
tokens = json.load(open(sys.argv[1]))["DkimAttributes"]["Tokens"]
assert len(tokens) == 3 and all(re.fullmatch(r"[a-z0-9]{32}", t) for t in tokens), tokens
PY
ok "aws sesv2 create-email-identity returns three tokens"
aws_ sesv2 get-email-identity --email-identity cli.example.com >"$workdir/get.json"
grep -q '"IdentityType": "DOMAIN"' "$workdir/get.json" || fail "aws sesv2 get-email-identity"
ok "aws sesv2 get-email-identity reads it back"

# A SES error, read back by the CLI as the right exception class.
if aws_ sesv2 get-email-identity --email-identity missing.example.com 2>"$workdir/err.txt"; then
  fail "get of a missing identity succeeded"
fi
grep -q 'NotFoundException' "$workdir/err.txt" || { cat "$workdir/err.txt" >&2; fail "CLI names NotFoundException"; }
ok "aws sesv2 names NotFoundException for a missing identity"

# Route 53: a change, then the record sets listed.
zone_id="$(aws_ route53 list-hosted-zones-by-name --dns-name example.com --query 'HostedZones[0].Id' --output text)"
token="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["DkimAttributes"]["Tokens"][0])' "$workdir/create.json")"
cat >"$workdir/batch.json" <<JSON
{"Changes":[{"Action":"UPSERT","ResourceRecordSet":{"Name":"${token}._domainkey.cli.example.com","Type":"CNAME","TTL":300,"ResourceRecords":[{"Value":"${token}.dkim.amazonses.com"}]}}]}
JSON
change_id="$(aws_ route53 change-resource-record-sets --hosted-zone-id "$zone_id" --change-batch "file://$workdir/batch.json" --query 'ChangeInfo.Id' --output text)"
aws_ route53 wait resource-record-sets-changed --id "$change_id"
aws_ route53 list-resource-record-sets --hosted-zone-id "$zone_id" >"$workdir/sets.json"
grep -q "${token}._domainkey.cli.example.com." "$workdir/sets.json" || fail "route53 list-resource-record-sets shows the change"
ok "aws route53 list-resource-record-sets shows the change"

python3 test/conformance/sandbox_boto3.py "$url"
echo "sandbox conformance: all checks passed"
