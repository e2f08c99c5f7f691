#!/usr/bin/env bash
# Conformance of the sandbox's Step Functions emulator with an independent client, this
# machine's AWS CLI v1: starts `npm run sandbox` (sandbox/server.ts) on free ports, runs the
# workflow through `aws stepfunctions`, reads the executions, their history and the records the
# run wrote back, answers a sleeping run's task token, onboards an identity with `aws events
# put-events`, then checks start-up, failures AWS would not produce and the HTTP API with curl,
# and always stops the sandbox. Exits non-zero on any failed check.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/lib/conformance-env.sh
source scripts/lib/conformance-env.sh

: >"$workdir/server.log"
# The default pace of `npm run sandbox` (60 virtual seconds per real second) leaves time to
# stop a 72-hour run mid-way.
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
# Below, `grep -x ... >/dev/null` rather than `grep -q`: -q stops reading at the first match, the
# writer then dies of SIGPIPE, and pipefail would fail the check.

# The state machine, listed and described.
aws_ stepfunctions list-state-machines >"$workdir/machines.json"
machine="$(json "$workdir/machines.json" 'd["stateMachines"][0]["stateMachineArn"]')"
[[ "$machine" == *":stateMachine:VerifyEmailIdentity" ]] || fail "list-state-machines names VerifyEmailIdentity"
ok "aws stepfunctions list-state-machines"
aws_ stepfunctions describe-state-machine --state-machine-arn "$machine" >"$workdir/machine.json"
[[ "$(json "$workdir/machine.json" 'json.loads(d["definition"])["StartAt"]')" == "ReadRequest" ]] \
  || fail "describe-state-machine returns the definition"
ok "aws stepfunctions describe-state-machine returns the definition"

# One run, started and followed with the CLI.
wait_for() {
  local arn="$1" status=""
  for _ in $(seq 1 300); do
    status="$(aws_ stepfunctions describe-execution --execution-arn "$arn" --query status --output text)"
    [[ "$status" != "RUNNING" ]] && break
    sleep 0.1
  done
  echo "$status"
}
arn="$(aws_ stepfunctions start-execution --state-machine-arn "$machine" --name conformance-1 \
  --input '{"EmailIdentity":"conformance.example.com"}' --query executionArn --output text)"
[[ "$(wait_for "$arn")" == "SUCCEEDED" ]] || fail "the run started by the CLI succeeds"
ok "aws stepfunctions start-execution, describe-execution: SUCCEEDED"

if aws_ stepfunctions start-execution --state-machine-arn "$machine" --name conformance-1 \
  --input '{"EmailIdentity":"other.example.com"}' 2>"$workdir/err.txt" >/dev/null; then
  fail "reusing a name with another input must fail"
fi
grep -q 'ExecutionAlreadyExists' "$workdir/err.txt" || { cat "$workdir/err.txt" >&2; fail "the CLI names ExecutionAlreadyExists"; }
ok "a reused execution name is ExecutionAlreadyExists"

if aws_ stepfunctions describe-execution --execution-arn "${arn}-missing" 2>"$workdir/err.txt" >/dev/null; then
  fail "describing a missing execution must fail"
fi
grep -q 'ExecutionDoesNotExist' "$workdir/err.txt" || { cat "$workdir/err.txt" >&2; fail "the CLI names ExecutionDoesNotExist"; }
ok "a missing execution is ExecutionDoesNotExist"

# Its history, in both orders.
aws_ stepfunctions get-execution-history --execution-arn "$arn" >"$workdir/history.json"
[[ "$(json "$workdir/history.json" 'd["events"][0]["type"]')" == "ExecutionStarted" ]] || fail "history starts with ExecutionStarted"
[[ "$(json "$workdir/history.json" 'd["events"][-1]["type"]')" == "ExecutionSucceeded" ]] || fail "history ends with ExecutionSucceeded"
json "$workdir/history.json" '"\n".join(e["type"] for e in d["events"])' | grep -x 'TaskScheduled' >/dev/null || fail "history has TaskScheduled"
json "$workdir/history.json" '[e["stateEnteredEventDetails"]["name"] for e in d["events"] if e["type"]=="TaskStateEntered"][0]' \
  | grep -x 'ClaimIdentity' >/dev/null || fail "the first task entered is ClaimIdentity"
json "$workdir/history.json" '"\n".join(e["taskSubmittedEventDetails"]["resource"] for e in d["events"] if e["type"]=="TaskSubmitted")' \
  | grep -x 'sendMessage.waitForTaskToken' >/dev/null || fail "history has a queued task's TaskSubmitted"
ok "aws stepfunctions get-execution-history: started, states, tasks, a queued task submitted, succeeded"
aws_ stepfunctions get-execution-history --execution-arn "$arn" --reverse-order --max-items 1 >"$workdir/last.json"
[[ "$(json "$workdir/last.json" 'd["events"][0]["type"]')" == "ExecutionSucceeded" ]] || fail "reverse order starts with the end"
ok "aws stepfunctions get-execution-history --reverse-order"

# The records the run wrote, read back through Route 53.
zone_id="$(aws_ route53 list-hosted-zones-by-name --dns-name example.com --query 'HostedZones[0].Id' --output text)"
count="$(aws_ route53 list-resource-record-sets --hosted-zone-id "$zone_id" \
  --query "length(ResourceRecordSets[?Type=='CNAME' && ends_with(Name, '._domainkey.conformance.example.com.')])" --output text)"
[[ "$count" == "3" ]] || fail "the run's three DKIM CNAMEs are in the zone (found $count)"
ok "aws route53 list-resource-record-sets after a run: three DKIM CNAMEs"

# A long run stopped mid-way; listings by status, one item per page.
long="$(aws_ stepfunctions start-execution --state-machine-arn "$machine" --name conformance-2 \
  --input '{"EmailIdentity":"nowhere.example.org"}' --query executionArn --output text)"
aws_ stepfunctions stop-execution --execution-arn "$long" --error Operator.Stop --cause "conformance check" >/dev/null
[[ "$(wait_for "$long")" == "ABORTED" ]] || fail "the stopped run is ABORTED"
[[ "$(aws_ stepfunctions describe-execution --execution-arn "$long" --query error --output text)" == "Operator.Stop" ]] \
  || fail "the stopped run keeps the error given to stop-execution"
ok "aws stepfunctions stop-execution: ABORTED"
all="$(aws_ stepfunctions list-executions --state-machine-arn "$machine" --page-size 1 --query 'executions[].name' --output text | wc -w)"
[[ "$all" -eq 2 ]] || fail "list-executions, one per page, finds both runs (found $all)"
aborted="$(aws_ stepfunctions list-executions --state-machine-arn "$machine" --status-filter ABORTED --query 'executions[].name' --output text)"
[[ "$aborted" == "conformance-2" ]] || fail "list-executions --status-filter ABORTED (found $aborted)"
ok "aws stepfunctions list-executions: pagination and status filter"

# Task tokens: a run asleep in AwaitVerification keeps its token in the registry, where the
# sweeper and a check-now find it. Answered once; a second answer, or a token never issued, fails.
asleep="$(aws_ stepfunctions start-execution --state-machine-arn "$machine" --name conformance-3 \
  --input '{"EmailIdentity":"asleep.example.org"}' --query executionArn --output text)"
token=""
for _ in $(seq 1 300); do
  token="$(aws_ dynamodb get-item --table-name IdentityRegistryTable --key '{"identity":{"S":"asleep.example.org"}}' \
    --query 'Item.task_token.S' --output text)"
  [[ -n "$token" && "$token" != "None" ]] && break
  sleep 0.1
done
[[ -n "$token" && "$token" != "None" ]] || fail "the sleeping run's token is in the registry"
aws_ stepfunctions send-task-heartbeat --task-token "$token" >/dev/null
aws_ stepfunctions send-task-failure --task-token "$token" --error Operator.Gave.Up --cause conformance >/dev/null
if aws_ stepfunctions send-task-success --task-token "$token" --task-output '{}' 2>"$workdir/err.txt" >/dev/null; then
  fail "a token answered twice must fail"
fi
grep -q 'TaskTimedOut' "$workdir/err.txt" || { cat "$workdir/err.txt" >&2; fail "the CLI names TaskTimedOut"; }
if aws_ stepfunctions send-task-success --task-token not-a-token --task-output '{}' 2>"$workdir/err.txt" >/dev/null; then
  fail "a malformed token must fail"
fi
grep -q 'InvalidToken' "$workdir/err.txt" || { cat "$workdir/err.txt" >&2; fail "the CLI names InvalidToken"; }
[[ "$(wait_for "$asleep")" == "FAILED" ]] || fail "the run whose task failed fails"
ok "aws stepfunctions send-task-heartbeat, send-task-failure; TaskTimedOut and InvalidToken"

# Onboarding: an event on the bus reaches the onboarding queue through the template's rule, and
# the starter starts the run; the registry shows it.
aws_ events put-events --entries '[{"Source":"tenant-onboarding","DetailType":"Email Identity Requested","Detail":"{\"EmailIdentity\":\"t1.example.com\"}"}]' \
  --query FailedEntryCount --output text | grep -x 0 >/dev/null || fail "aws events put-events accepts the onboarding event"
status=""
for _ in $(seq 1 300); do
  status="$(aws_ dynamodb get-item --table-name IdentityRegistryTable --key '{"identity":{"S":"t1.example.com"}}' \
    --query 'Item.status.S' --output text)"
  [[ "$status" == "VERIFIED" ]] && break
  sleep 0.1
done
[[ "$status" == "VERIFIED" ]] || fail "the onboarded identity is VERIFIED in the registry (found $status)"
grep -q '"detail-type":"Email Identity Verified".*"identity":"t1.example.com"' "$workdir/events" \
  || fail "the onboarded run's Verified event is delivered"
[[ "$(aws_ sqs get-queue-attributes --queue-url "$url/000000000000/OnboardingQueue" --attribute-names All \
  --query 'Attributes.[ApproximateNumberOfMessages,ApproximateNumberOfMessagesNotVisible]' --output text)" == $'0\t0' ]] \
  || fail "the onboarding queue is empty once the starter is done"
ok "aws events put-events (tenant-onboarding): the rule, the queue, the starter, a verified run"

grep -q '60 virtual seconds per real second' "$workdir/server.log" || fail "npm run sandbox runs at 60 virtual seconds per real second by default"
ok "npm run sandbox: 60 virtual seconds per real second by default"

# Start-up a person can script: health once ready; a taken port fails at once, naming it.
[[ "$(curl -s "$api/sandbox/health")" == '{"ready":true}' ]] || fail "GET /sandbox/health answers {\"ready\":true}"
ok "GET /sandbox/health"
api_port="${api##*:}"
if SANDBOX_API_PORT="$api_port" SANDBOX_AWS_PORT=0 SANDBOX_DNS_PORT=0 timeout 30 \
  node --import tsx sandbox/server.ts >/dev/null 2>"$workdir/second.log"; then
  fail "a second sandbox on a taken API port must fail"
fi
grep -q "TCP port $api_port on 127.0.0.1 is already in use: set SANDBOX_API_PORT" "$workdir/second.log" \
  || { cat "$workdir/second.log" >&2; fail "the error names the port and SANDBOX_API_PORT"; }
if grep -q '    at ' "$workdir/second.log"; then fail "a taken port is one line, not a stack trace"; fi
ok "a taken API port fails at once, naming it and SANDBOX_API_PORT"

# Failures AWS would not produce: an invalid request ends VALIDATION_ERROR every time.
for run in 1 2 3; do
  invalid="$(aws_ stepfunctions start-execution --state-machine-arn "$machine" --name "invalid-$run" \
    --input '{"EmailIdentity":"bad..domain"}' --query executionArn --output text)"
  [[ "$(wait_for "$invalid")" == "FAILED" ]] || fail "the invalid run $run fails"
  [[ "$(aws_ stepfunctions describe-execution --execution-arn "$invalid" --query error --output text)" == "VALIDATION_ERROR" ]] \
    || fail "the invalid run $run fails with VALIDATION_ERROR, not a time-out"
done
ok "aws stepfunctions start-execution of {\"EmailIdentity\":\"bad..domain\"}: VALIDATION_ERROR, 3 of 3"

# A DKIM change that changes nothing (Easy DKIM asked of an Easy DKIM identity, manual DNS),
# through the HTTP API: once a run that ended in States.Timeout, now 200 with the identity as
# it is, and no run started.
before="$(aws_ stepfunctions list-executions --state-machine-arn "$machine" --query 'length(executions)' --output text)"
code="$(curl -s -o "$workdir/put.json" -w '%{http_code}' -XPUT "$api/identities/conformance.example.com/dkim" \
  -H 'content-type: application/json' -d '{"SigningAttributesOrigin":"AWS_SES","Dns":{"Provider":"manual"}}')"
[[ "$code" == "200" ]] || { cat "$workdir/put.json" >&2; fail "a DKIM change that changes nothing answers 200"; }
[[ "$(json "$workdir/put.json" 'd["data"]["status"]')" == "VERIFIED" ]] || fail "the no-op change answers the identity as it is"
after="$(aws_ stepfunctions list-executions --state-machine-arn "$machine" --query 'length(executions)' --output text)"
[[ "$before" == "$after" ]] || fail "a DKIM change that changes nothing starts no run ($before -> $after)"
ok "PUT /identities/{identity}/dkim that changes nothing: 200, the identity as it is, no run"

# Clients that hang up early do not freeze virtual time for the runs after them.
for run in 1 2 3; do
  curl -s -m 0.02 -XPOST "$api/identities" -H 'content-type: application/json' \
    -d "{\"EmailIdentity\":\"hangup-$run.example.com\"}" >/dev/null || true
done
curl -s -XPOST "$api/identities" -H 'content-type: application/json' \
  -d '{"EmailIdentity":"after-hangup.example.com"}' >"$workdir/after.json"
[[ "$(wait_for "$(json "$workdir/after.json" 'd["data"]["execution_arn"]')")" == "SUCCEEDED" ]] \
  || fail "a run after clients hung up still succeeds"
ok "clients hanging up (curl -m 0.02) leave virtual time running"

# The router: malformed percent-encoding 400, a known path with another method 405.
[[ "$(curl -s -o /dev/null -w '%{http_code}' "$api/identities/%")" == "400" ]] || fail "GET /identities/% is 400"
[[ "$(curl -s -o /dev/null -w '%{http_code}' -XPUT "$api/identities/%E0%A4%A/dkim" -d '{}')" == "400" ]] \
  || fail "PUT /identities/%E0%A4%A/dkim is 400"
[[ "$(curl -s -o /dev/null -w '%{http_code}' -XPATCH "$api/identities/x.example.com")" == "405" ]] \
  || fail "PATCH /identities/{identity} is 405"
[[ "$(curl -s -o /dev/null -w '%{http_code}' -XDELETE "$api/identities/nobody.example.com")" == "404" ]] \
  || fail "DELETE of an identity neither the registry nor SES knows is 404"
ok "the HTTP API: 400 for malformed paths, 405 for another method, 404 for deleting an unknown identity"

# Calls per emulated service operation.
curl -s "$api/sandbox/metrics" >"$workdir/metrics.json"
[[ "$(json "$workdir/metrics.json" 'd["calls"]["stepfunctions:StartExecution"]["ok"] >= 6')" == "True" ]] \
  || fail "GET /sandbox/metrics counts StartExecution"
[[ "$(json "$workdir/metrics.json" 'sorted(d["calls"]["sesv2:CreateEmailIdentity"])')" == "['failed', 'ok', 'throttled']" ]] \
  || fail "GET /sandbox/metrics gives ok, throttled, failed"
ok "GET /sandbox/metrics"

echo "sandbox Step Functions conformance: all checks passed"
