#!/usr/bin/env bash
# Conformance of the sandbox's emulated AWS services with independent clients: this machine's
# AWS CLI v1 and boto3 (SES v2, Route 53, EventBridge, Secrets Manager, SQS, DynamoDB). Starts the emulators (sandbox/aws/serve-emulators.ts) on free ports,
# drives them, and always stops them. Exits non-zero on any failed check.
#
# Three servers: one with SES's rate limit off, for the functional checks (the CLI and boto3
# make calls faster than one per second per operation); one at SES's default rate, to see it
# throttle; one answering as SES in af-south-1, a region with its own Easy DKIM zone.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/lib/conformance-env.sh
source scripts/lib/conformance-env.sh

# start_emulators NAME [VAR=value...]: starts a server with those settings; its URL is left in
# $started_url (no command substitution: the server must be a child of this shell, to be stopped).
start_emulators() {
  local name="$1"
  shift
  env SANDBOX_AWS_PORT=0 SANDBOX_DNS_PORT=0 "$@" node --import tsx sandbox/aws/serve-emulators.ts \
    >"$workdir/$name.ready" 2>"$workdir/$name.log" &
  local pid=$!
  server_pids+=("$pid")
  for _ in $(seq 1 100); do
    [[ -s "$workdir/$name.ready" ]] && break
    kill -0 "$pid" 2>/dev/null || { cat "$workdir/$name.log" >&2; echo "emulators ($name) did not start" >&2; exit 1; }
    sleep 0.1
  done
  [[ -s "$workdir/$name.ready" ]] || { echo "emulators ($name) did not report ready" >&2; exit 1; }
  started_url="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["awsUrl"])' "$workdir/$name.ready")"
}

start_emulators functional SANDBOX_SES_RATE_LIMIT=0
url="$started_url"
start_emulators rate
rate_url="$started_url"
start_emulators region SANDBOX_SES_RATE_LIMIT=0 SANDBOX_REGION=af-south-1
region_url="$started_url"
echo "emulators at $url (SES rate off), $rate_url (SES default rate), $region_url (af-south-1)"

fail() { echo "not ok - $*" >&2; exit 1; }
ok() { echo "ok - $*"; }
aws_() { aws --endpoint-url "$url" --output json "$@"; }
# expect_error CODE COMMAND...: the command fails and the CLI names CODE.
expect_error() {
  local code="$1"
  shift
  if "$@" >/dev/null 2>"$workdir/err.txt"; then fail "$* should fail with $code"; fi
  grep -q "$code" "$workdir/err.txt" || { cat "$workdir/err.txt" >&2; fail "the CLI names $code for $*"; }
}

# SES v2: create and get an identity, with base32 tokens.
aws_ sesv2 create-email-identity --email-identity cli.example.com >"$workdir/create.json"
python3 - "$workdir/create.json" <<'PY' || fail "aws sesv2 create-email-identity returns three base32 tokens"
import json, re, sys
dkim = json.load(open(sys.argv[1]))["DkimAttributes"]
assert len(dkim["Tokens"]) == 3 and all(re.fullmatch(r"[a-z2-7]{32}", t) for t in dkim["Tokens"]), dkim
assert dkim["SigningHostedZone"] == "dkim.amazonses.com", dkim
PY
ok "aws sesv2 create-email-identity returns three base32 tokens, in dkim.amazonses.com"
aws_ sesv2 get-email-identity --email-identity cli.example.com >"$workdir/get.json"
grep -q '"IdentityType": "DOMAIN"' "$workdir/get.json" || fail "aws sesv2 get-email-identity"
ok "aws sesv2 get-email-identity reads it back"

# A SES error, read back by the CLI as the right exception class.
expect_error NotFoundException aws_ sesv2 get-email-identity --email-identity missing.example.com
ok "aws sesv2 names NotFoundException for a missing identity"

# Configuration sets: an identity naming a missing one is refused; one that exists is taken.
expect_error NotFoundException aws_ sesv2 create-email-identity --email-identity cs.example.com --configuration-set-name transactional
aws_ sesv2 create-configuration-set --configuration-set-name transactional >/dev/null
expect_error AlreadyExistsException aws_ sesv2 create-configuration-set --configuration-set-name transactional
[[ "$(aws_ sesv2 list-configuration-sets --query 'ConfigurationSets' --output text)" == "transactional" ]] \
  || fail "aws sesv2 list-configuration-sets lists it"
aws_ sesv2 create-email-identity --email-identity cs.example.com --configuration-set-name transactional >/dev/null
[[ "$(aws_ sesv2 get-email-identity --email-identity cs.example.com --query ConfigurationSetName --output text)" == "transactional" ]] \
  || fail "the identity keeps its configuration set"
expect_error NotFoundException aws_ sesv2 delete-configuration-set --configuration-set-name unused-set
ok "aws sesv2 configuration sets: create, list, NotFoundException and AlreadyExistsException"

# Tenants: an identity associated with a tenant, listed back.
aws_ sesv2 create-tenant --tenant-name tenant-42 >"$workdir/tenant.json"
grep -q '"SendingStatus": "ENABLED"' "$workdir/tenant.json" || fail "aws sesv2 create-tenant"
aws_ sesv2 create-tenant-resource-association --tenant-name tenant-42 \
  --resource-arn arn:aws:ses:us-east-1:000000000000:identity/cli.example.com >/dev/null
[[ "$(aws_ sesv2 list-tenant-resources --tenant-name tenant-42 --query 'TenantResources[0].ResourceType' --output text)" == "EMAIL_IDENTITY" ]] \
  || fail "aws sesv2 list-tenant-resources lists the identity"
expect_error NotFoundException aws_ sesv2 create-tenant-resource-association --tenant-name tenant-42 \
  --resource-arn arn:aws:ses:us-east-1:000000000000:identity/nobody.example.com
[[ "$(aws_ sesv2 get-tenant --tenant-name tenant-42 --query Tenant.TenantName --output text)" == "tenant-42" ]] \
  || fail "aws sesv2 get-tenant reads the tenant back"
expect_error NotFoundException aws_ sesv2 get-tenant --tenant-name nobody
expect_error AlreadyExistsException aws_ sesv2 create-tenant --tenant-name tenant-42
ok "aws sesv2 tenants: create, get, associate an identity, list its resources, NotFoundException and AlreadyExistsException"

# MAIL FROM: set on the identity, its status and behaviour read back.
aws_ sesv2 put-email-identity-mail-from-attributes --email-identity cli.example.com \
  --mail-from-domain bounce.cli.example.com --behavior-on-mx-failure REJECT_MESSAGE >/dev/null
[[ "$(aws_ sesv2 get-email-identity --email-identity cli.example.com --query 'MailFromAttributes.[MailFromDomain,BehaviorOnMxFailure]' --output text)" == "bounce.cli.example.com	REJECT_MESSAGE" ]] \
  || fail "aws sesv2 put-email-identity-mail-from-attributes"
expect_error BadRequestException aws_ sesv2 put-email-identity-mail-from-attributes --email-identity cli.example.com \
  --mail-from-domain bounce.example.org
ok "aws sesv2 MAIL FROM: set, read back, BadRequestException outside the identity"

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
[[ "$(aws_ route53 list-resource-record-sets --hosted-zone-id "$zone_id" --no-paginate --query MaxItems --output text)" == "100" ]] \
  || fail "list-resource-record-sets pages 100 by default"
ok "aws route53 list-resource-record-sets: MaxItems 100 when none is given"

# Route 53 wants TXT values quoted.
cat >"$workdir/txt.json" <<'JSON'
{"Changes":[{"Action":"UPSERT","ResourceRecordSet":{"Name":"txt.example.com","Type":"TXT","TTL":300,"ResourceRecords":[{"Value":"v=spf1 -all"}]}}]}
JSON
expect_error InvalidChangeBatch aws_ route53 change-resource-record-sets --hosted-zone-id "$zone_id" --change-batch "file://$workdir/txt.json"
grep -q 'enclosed in quotation marks' "$workdir/err.txt" || fail "the error says the TXT value needs quotes"
ok "aws route53: an unquoted TXT value is InvalidChangeBatch"

# A custom MAIL FROM domain, decided by its MX record in the sandbox DNS.
aws_ sesv2 put-email-identity-mail-from-attributes --email-identity cli.example.com --mail-from-domain bounce.cli.example.com >/dev/null
cat >"$workdir/mx.json" <<'JSON'
{"Changes":[{"Action":"UPSERT","ResourceRecordSet":{"Name":"bounce.cli.example.com","Type":"MX","TTL":300,"ResourceRecords":[{"Value":"10 feedback-smtp.us-east-1.amazonses.com"}]}}]}
JSON
aws_ route53 change-resource-record-sets --hosted-zone-id "$zone_id" --change-batch "file://$workdir/mx.json" >/dev/null
[[ "$(aws_ sesv2 get-email-identity --email-identity cli.example.com --query 'MailFromAttributes.MailFromDomainStatus' --output text)" == "SUCCESS" ]] \
  || fail "MAIL FROM turns SUCCESS once the MX record is in DNS"
ok "aws sesv2 put-email-identity-mail-from-attributes: SUCCESS once the MX record is in DNS"

# The region's Easy DKIM zone.
[[ "$(aws --endpoint-url "$region_url" --region af-south-1 --output text sesv2 create-email-identity --email-identity cli.example.com --query DkimAttributes.SigningHostedZone)" == "dkim.af-south-1.amazonses.com" ]] \
  || fail "SES in af-south-1 answers with dkim.af-south-1.amazonses.com"
ok "aws sesv2 in af-south-1: SigningHostedZone dkim.af-south-1.amazonses.com"

# SQS and DynamoDB with the template's queues and table.
aws_ sqs list-queues --query 'QueueUrls' --output text | tr '\t' '\n' | grep '/000000000000/OnboardingQueue$' >/dev/null \
  || fail "aws sqs list-queues shows the template's onboarding queue"
queue="$(aws_ sqs get-queue-url --queue-name OnboardingQueue --query QueueUrl --output text)"
aws_ sqs send-message --queue-url "$queue" --message-body '{"detail":{}}' >/dev/null
handle="$(aws_ sqs receive-message --queue-url "$queue" --attribute-names All --query 'Messages[0].ReceiptHandle' --output text)"
[[ "$(aws_ sqs get-queue-attributes --queue-url "$queue" --attribute-names ApproximateNumberOfMessagesNotVisible --query 'Attributes.ApproximateNumberOfMessagesNotVisible' --output text)" == "1" ]] \
  || fail "a received message is in flight"
aws_ sqs delete-message --queue-url "$queue" --receipt-handle "$handle"
[[ "$(aws_ sqs get-queue-attributes --queue-url "$queue" --attribute-names All --query 'Attributes.[ApproximateNumberOfMessages,ApproximateNumberOfMessagesNotVisible]' --output text)" == $'0\t0' ]] \
  || fail "a deleted message is gone"
expect_error AWS.SimpleQueueService.NonExistentQueue aws_ sqs get-queue-url --queue-name no-such-queue
fifo="$(aws_ sqs get-queue-url --queue-name SesRequestQueue.fifo --query QueueUrl --output text)"
expect_error MissingParameter aws_ sqs send-message --queue-url "$fifo" --message-body 'no group'
ok "aws sqs: the template's queues, send, receive, in flight, delete, and SQS's error codes"
aws_ dynamodb put-item --table-name IdentityRegistryTable --item '{"identity":{"S":"cli.example.com"}}' \
  --condition-expression 'attribute_not_exists(#i)' --expression-attribute-names '{"#i":"identity"}'
expect_error ConditionalCheckFailedException aws_ dynamodb put-item --table-name IdentityRegistryTable \
  --item '{"identity":{"S":"cli.example.com"}}' --condition-expression 'attribute_not_exists(#i)' \
  --expression-attribute-names '{"#i":"identity"}'
[[ "$(aws_ dynamodb scan --table-name IdentityRegistryTable --query 'Items[].identity.S' --output text)" == *cli.example.com* ]] \
  || fail "aws dynamodb scan finds the item"
ok "aws dynamodb: the registry table, a conditional put, ConditionalCheckFailedException, a scan"

# DEED: SES per Region, chosen by the Region the CLI signs for.
aws_ --region us-east-1 sesv2 create-email-identity --email-identity deed.example.com >/dev/null
expect_error NotFoundException aws_ --region eu-west-1 sesv2 get-email-identity --email-identity deed.example.com
expect_error BadRequestException aws_ --region eu-west-1 sesv2 create-email-identity --email-identity deed.example.com \
  --dkim-signing-attributes DomainSigningAttributesOrigin=AWS_SES_US_EAST_1
ok "aws sesv2 --region eu-west-1: its own identities; a replica of an unverified us-east-1 parent is BadRequestException"

python3 test/conformance/sandbox_boto3.py "$url" "$rate_url" "$region_url"
echo "sandbox conformance: all checks passed"
