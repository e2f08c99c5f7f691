"""Conformance: boto3, an independent client, against the sandbox's emulated AWS services.

Usage: python3 test/conformance/sandbox_boto3.py URL [RATE_URL [REGION_URL]]
  URL         emulators with SES's rate limit off (the functional checks)
  RATE_URL    emulators at SES's default rate (one request per second per operation)
  REGION_URL  emulators answering as SES in af-south-1
Exits non-zero on the first failed check.
"""

import json
import re
import sys
import uuid

import boto3
from botocore.config import Config

ENDPOINT = sys.argv[1]
RATE_ENDPOINT = sys.argv[2] if len(sys.argv) > 2 else None
REGION_ENDPOINT = sys.argv[3] if len(sys.argv) > 3 else None


def client(service, endpoint=ENDPOINT, region="us-east-1", attempts=None):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="dummy",
        aws_secret_access_key="dummy",
        # One attempt where a check wants to see the first answer, not a retried one.
        config=Config(retries={"mode": "standard", "max_attempts": attempts}) if attempts else None,
    )


def check(condition, message):
    if not condition:
        raise AssertionError(message)
    print(f"ok - {message}")


ses = client("sesv2")
route53 = client("route53")
events = client("events")
secrets = client("secretsmanager")
domain = f"boto3-{uuid.uuid4().hex[:8]}.example.com"

created = ses.create_email_identity(EmailIdentity=domain)
tokens = created["DkimAttributes"]["Tokens"]
check(len(tokens) == 3 and all(re.fullmatch(r"[a-z2-7]{32}", t) for t in tokens), "sesv2 create returns three base32 DKIM tokens")
check(created["DkimAttributes"]["SigningHostedZone"] == "dkim.amazonses.com", "sesv2 create names us-east-1's Easy DKIM zone")
got = ses.get_email_identity(EmailIdentity=domain)
check(got["DkimAttributes"]["Status"] == "PENDING", "sesv2 get reads the identity back, PENDING")

try:
    ses.get_email_identity(EmailIdentity="missing.example.com")
    check(False, "get of a missing identity must fail")
except ses.exceptions.NotFoundException as error:
    check(error.response["ResponseMetadata"]["HTTPStatusCode"] == 404, "a missing identity raises client.exceptions.NotFoundException")

try:
    ses.create_email_identity(EmailIdentity=domain)
    check(False, "a second create must fail")
except ses.exceptions.AlreadyExistsException:
    check(True, "a second create raises client.exceptions.AlreadyExistsException")

names = []
kwargs = {"PageSize": 1}
while True:
    page = ses.list_email_identities(**kwargs)
    names += [identity["IdentityName"] for identity in page["EmailIdentities"]]
    if "NextToken" not in page:
        break
    kwargs["NextToken"] = page["NextToken"]
check(domain in names and len(names) == len(set(names)), "sesv2 list pages through every identity once")

zone = route53.list_hosted_zones_by_name(DNSName="example.com")["HostedZones"][0]
change = route53.change_resource_record_sets(
    HostedZoneId=zone["Id"],
    ChangeBatch={
        "Changes": [
            {
                "Action": "UPSERT",
                "ResourceRecordSet": {
                    "Name": f"{token}._domainkey.{domain}",
                    "Type": "CNAME",
                    "TTL": 300,
                    "ResourceRecords": [{"Value": f"{token}.dkim.amazonses.com"}],
                },
            }
            for token in tokens
        ]
    },
)
route53.get_waiter("resource_record_sets_changed").wait(Id=change["ChangeInfo"]["Id"], WaiterConfig={"Delay": 1})
check(True, "route53 change reaches INSYNC")
sets = route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
check(sum(1 for s in sets if s["Type"] == "CNAME" and domain in s["Name"]) == 3, "route53 lists the three CNAMEs")

try:
    route53.change_resource_record_sets(
        HostedZoneId=zone["Id"],
        ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": sets[-1]}]},
    )
    check(False, "CREATE of an existing set must fail")
except route53.exceptions.InvalidChangeBatch:
    check(True, "CREATE of an existing set raises InvalidChangeBatch")

# The emulated SES checks the sandbox DNS server itself; the server runs it on the real clock with
# no first-check delay, so the next read sees the records.
verified = ses.get_email_identity(EmailIdentity=domain)
check(verified["DkimAttributes"]["Status"] == "SUCCESS", "SES sees the records in the sandbox DNS and verifies")

put = events.put_events(
    Entries=[
        {"Source": "conformance", "DetailType": "Check", "Detail": json.dumps({"ok": True})},
        {"Source": "conformance", "DetailType": "Check", "Detail": "not json"},
    ]
)
check(put["FailedEntryCount"] == 1 and put["Entries"][1]["ErrorCode"] == "MalformedDetail", "events put_events reports the bad entry")

arn = secrets.create_secret(Name=f"conformance/{domain}", SecretString="s3cret")["ARN"]
check(secrets.get_secret_value(SecretId=arn)["SecretString"] == "s3cret", "secretsmanager round trip by ARN")
secrets.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
try:
    secrets.get_secret_value(SecretId=arn)
    check(False, "a deleted secret must be gone")
except secrets.exceptions.ResourceNotFoundException:
    check(True, "a deleted secret raises ResourceNotFoundException")

# Configuration sets: created, read, listed; an identity naming a missing one is refused.
ses.create_configuration_set(ConfigurationSetName="boto3-set", Tags=[{"Key": "team", "Value": "mail"}])
check(ses.get_configuration_set(ConfigurationSetName="boto3-set")["Tags"] == [{"Key": "team", "Value": "mail"}], "sesv2 get_configuration_set reads it back")
check("boto3-set" in ses.list_configuration_sets()["ConfigurationSets"], "sesv2 list_configuration_sets lists it")
try:
    ses.create_email_identity(EmailIdentity=f"cs-{domain}", ConfigurationSetName="no-such-set")
    check(False, "an identity naming a missing configuration set must be refused")
except ses.exceptions.NotFoundException:
    check(True, "an identity naming a missing configuration set raises NotFoundException")
ses.delete_configuration_set(ConfigurationSetName="boto3-set")
try:
    ses.get_configuration_set(ConfigurationSetName="boto3-set")
    check(False, "a deleted configuration set must be gone")
except ses.exceptions.NotFoundException:
    check(True, "a deleted configuration set raises NotFoundException")

# Tenants and their resources.
tenant = ses.create_tenant(TenantName="boto3-tenant")
identity_arn = f"arn:aws:ses:us-east-1:000000000000:identity/{domain}"
ses.create_tenant_resource_association(TenantName="boto3-tenant", ResourceArn=identity_arn)
resources = ses.list_tenant_resources(TenantName="boto3-tenant")["TenantResources"]
check(tenant["TenantArn"].startswith("arn:aws:ses:us-east-1:000000000000:tenant/boto3-tenant/"), "sesv2 create_tenant returns its ARN")
check(resources == [{"ResourceType": "EMAIL_IDENTITY", "ResourceArn": identity_arn}], "sesv2 list_tenant_resources lists the identity")
tenants = ses.list_resource_tenants(ResourceArn=identity_arn)["ResourceTenants"]
check([t["TenantName"] for t in tenants] == ["boto3-tenant"], "sesv2 list_resource_tenants lists the tenant")
try:
    ses.create_tenant_resource_association(TenantName="boto3-tenant", ResourceArn=identity_arn)
    check(False, "a second association must be refused")
except ses.exceptions.AlreadyExistsException:
    check(True, "a second association raises AlreadyExistsException")

found = ses.get_tenant(TenantName="boto3-tenant")["Tenant"]
check(found["TenantArn"] == tenant["TenantArn"] and found["SendingStatus"] == "ENABLED", "sesv2 get_tenant reads the tenant back")
try:
    ses.get_tenant(TenantName="nobody")
    check(False, "an unknown tenant must be refused")
except ses.exceptions.NotFoundException:
    check(True, "sesv2 get_tenant of an unknown tenant raises NotFoundException")
try:
    ses.create_tenant(TenantName="boto3-tenant")
    check(False, "a second tenant of one name must be refused")
except ses.exceptions.AlreadyExistsException:
    check(True, "sesv2 create_tenant of an existing name raises AlreadyExistsException")
try:
    ses.create_tenant(TenantName="acme corp")
    check(False, "a tenant name with a space must be refused")
except ses.exceptions.BadRequestException:
    check(True, "sesv2 create_tenant with an invalid name raises BadRequestException")

# A custom MAIL FROM domain: PENDING until its MX record is in DNS, then SUCCESS.
mail_from = f"bounce.{domain}"
ses.put_email_identity_mail_from_attributes(EmailIdentity=domain, MailFromDomain=mail_from, BehaviorOnMxFailure="REJECT_MESSAGE")
before = ses.get_email_identity(EmailIdentity=domain)["MailFromAttributes"]
route53.change_resource_record_sets(
    HostedZoneId=zone["Id"],
    ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {"Name": mail_from, "Type": "MX", "TTL": 300, "ResourceRecords": [{"Value": "10 feedback-smtp.us-east-1.amazonses.com"}]}}]},
)
after = ses.get_email_identity(EmailIdentity=domain)["MailFromAttributes"]
check(before["MailFromDomainStatus"] in ("PENDING", "FAILED") and after == {"MailFromDomain": mail_from, "MailFromDomainStatus": "SUCCESS", "BehaviorOnMxFailure": "REJECT_MESSAGE"}, "sesv2 MAIL FROM turns SUCCESS once its MX record is in DNS")
try:
    ses.put_email_identity_mail_from_attributes(EmailIdentity=domain, MailFromDomain="bounce.example.org")
    check(False, "a MAIL FROM domain outside the identity must be refused")
except ses.exceptions.BadRequestException:
    check(True, "a MAIL FROM domain outside the identity raises BadRequestException")

# Route 53: a TXT value must be quoted.
try:
    route53.change_resource_record_sets(
        HostedZoneId=zone["Id"],
        ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {"Name": f"txt.{domain}", "Type": "TXT", "TTL": 300, "ResourceRecords": [{"Value": "v=spf1 -all"}]}}]},
    )
    check(False, "an unquoted TXT value must be refused")
except route53.exceptions.InvalidChangeBatch as error:
    check("enclosed in quotation marks" in str(error), "an unquoted TXT value raises InvalidChangeBatch")

# SQS (JSON 1.0 with query-compatible error codes), with the template's queues in place.
sqs = client("sqs")
urls = sqs.list_queues()["QueueUrls"]
check(any(url.endswith("/000000000000/SesRequestQueue.fifo") for url in urls), "sqs list_queues shows the template's SES request queue")
fifo = sqs.get_queue_url(QueueName="SesRequestQueue.fifo")["QueueUrl"]
attributes = sqs.get_queue_attributes(QueueUrl=fifo, AttributeNames=["All"])["Attributes"]
check(attributes["FifoQueue"] == "true" and attributes["ContentBasedDeduplication"] == "true" and json.loads(attributes["RedrivePolicy"])["maxReceiveCount"] == 20, "sqs get_queue_attributes: FIFO, content-based deduplication, the template's redrive policy")
body = json.dumps({"step": "Check", "nonce": domain})
first = sqs.send_message(QueueUrl=fifo, MessageBody=body, MessageGroupId="ses")
again = sqs.send_message(QueueUrl=fifo, MessageBody=body, MessageGroupId="ses")
check(first["MessageId"] == again["MessageId"], "sqs deduplicates the same content on a FIFO queue")
received = sqs.receive_message(QueueUrl=fifo, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"])["Messages"]
check([m["Body"] for m in received] == [body] and received[0]["Attributes"]["MessageGroupId"] == "ses" and received[0]["Attributes"]["ApproximateReceiveCount"] == "1", "sqs receive_message hands it out once, with its group and receive count")
check(sqs.receive_message(QueueUrl=fifo).get("Messages", []) == [], "sqs hands out nothing of a group while its message is in flight")
sqs.change_message_visibility(QueueUrl=fifo, ReceiptHandle=received[0]["ReceiptHandle"], VisibilityTimeout=0)
back = sqs.receive_message(QueueUrl=fifo, MessageSystemAttributeNames=["All"])["Messages"]
check(back[0]["Attributes"]["ApproximateReceiveCount"] == "2", "sqs change_message_visibility to 0 gives it back at once")
sqs.delete_message(QueueUrl=fifo, ReceiptHandle=back[0]["ReceiptHandle"])
try:
    sqs.change_message_visibility(QueueUrl=fifo, ReceiptHandle=back[0]["ReceiptHandle"], VisibilityTimeout=5)
    check(False, "a deleted message cannot change its visibility")
except sqs.exceptions.MessageNotInflight:
    check(True, "sqs raises MessageNotInflight for a message no longer in flight")
try:
    sqs.get_queue_url(QueueName="no-such-queue")
    check(False, "a missing queue must fail")
except sqs.exceptions.QueueDoesNotExist as error:
    check(error.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue", "sqs raises QueueDoesNotExist, code AWS.SimpleQueueService.NonExistentQueue")
try:
    sqs.send_message(QueueUrl=fifo, MessageBody="no group")
    check(False, "a FIFO message without a group must fail")
except sqs.exceptions.ClientError as error:
    check(error.response["Error"]["Code"] == "MissingParameter", "sqs refuses a FIFO message without MessageGroupId (MissingParameter)")

# DynamoDB (dynalite), with the template's registry table and its indexes.
dynamodb = client("dynamodb")
table = dynamodb.describe_table(TableName="IdentityRegistryTable")["Table"]
check(sorted(index["IndexName"] for index in table["GlobalSecondaryIndexes"]) == ["ByIdentity", "ByProbeDue", "ByStaleSince", "ByStatus", "ByWaiting"], "dynamodb describe_table: the registry with its five indexes (ByStaleSince: DKIM changes waiting for the stale-record remover; ByWaiting: runs waiting with a task token; ByProbeDue: identities whose drift probe is due)")
item = {"identity": {"S": domain}, "kind": {"S": "IDENTITY"}, "status": {"S": "PENDING"}, "updated_at": {"S": "2026-12-01T00:00:00Z"}}
claim = {"ConditionExpression": "attribute_not_exists(#i)", "ExpressionAttributeNames": {"#i": "identity"}}
dynamodb.put_item(TableName="IdentityRegistryTable", Item=item, **claim)
try:
    dynamodb.put_item(TableName="IdentityRegistryTable", Item=item, **claim)
    check(False, "a second conditional claim must fail")
except dynamodb.exceptions.ConditionalCheckFailedException:
    check(True, "dynamodb raises ConditionalCheckFailedException for a failed condition")
pending = dynamodb.query(TableName="IdentityRegistryTable", IndexName="ByStatus", KeyConditionExpression="#s = :s", ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": "PENDING"}})["Items"]
check(any(found["identity"]["S"] == domain for found in pending), "dynamodb query on the ByStatus index finds it")

if RATE_ENDPOINT:
    # SES's default rate: one request per second per operation. Calls made back to back meet
    # TooManyRequestsException (429); another operation has its own budget.
    limited = client("sesv2", RATE_ENDPOINT, attempts=1)
    outcomes = []
    for _ in range(5):
        try:
            limited.list_email_identities()
            outcomes.append("ok")
        except limited.exceptions.TooManyRequestsException as error:
            outcomes.append(error.response["ResponseMetadata"]["HTTPStatusCode"])
    check(outcomes[0] == "ok" and 429 in outcomes, f"sesv2 at the default rate throttles a burst with TooManyRequestsException 429 ({outcomes})")
    try:
        limited.get_email_identity(EmailIdentity="other-operation.example.com")
    except limited.exceptions.NotFoundException:
        check(True, "another operation has its own budget")
    # SES's rates are per Region: the same operation at once in another Region is not throttled.
    ireland = client("sesv2", RATE_ENDPOINT, region="eu-west-1", attempts=1)
    ireland.list_email_identities()
    check(True, "sesv2 in eu-west-1 has its own budget: ListEmailIdentities there is not throttled")

if REGION_ENDPOINT:
    regional = client("sesv2", REGION_ENDPOINT, region="af-south-1")
    dkim = regional.create_email_identity(EmailIdentity=f"region-{domain}")["DkimAttributes"]
    check(dkim["SigningHostedZone"] == "dkim.af-south-1.amazonses.com", "sesv2 in af-south-1 answers with its own Easy DKIM zone")
    regional_tenant = regional.create_tenant(TenantName="region-tenant")
    check(regional_tenant["TenantArn"].startswith("arn:aws:ses:af-south-1:000000000000:tenant/region-tenant/"), "sesv2 in af-south-1 makes tenant ARNs of its Region")

if RATE_ENDPOINT:
    # The tenant and MAIL FROM operations share SES's rate like every other operation.
    limited = client("sesv2", RATE_ENDPOINT, attempts=1)
    outcomes = []
    for index in range(5):
        try:
            limited.create_tenant(TenantName=f"burst-{index}")
            outcomes.append("ok")
        except limited.exceptions.TooManyRequestsException as error:
            outcomes.append(error.response["ResponseMetadata"]["HTTPStatusCode"])
    check(outcomes[0] == "ok" and 429 in outcomes, f"sesv2 create_tenant at the default rate throttles a burst with 429 ({outcomes})")

# DEED: SES per Region, by the Region the request is signed for (boto3's region_name).
home = client("sesv2", region="us-east-1")
ireland = client("sesv2", region="eu-west-1")
home.create_email_identity(EmailIdentity=f"deed-{domain}")
try:
    ireland.get_email_identity(EmailIdentity=f"deed-{domain}")
    check(False, "an identity of us-east-1 is unknown in eu-west-1")
except ireland.exceptions.NotFoundException:
    check(True, "sesv2 keeps each Region's identities apart (us-east-1's is NotFound in eu-west-1)")
try:
    ireland.create_email_identity(
        EmailIdentity=f"deed-{domain}",
        DkimSigningAttributes={"DomainSigningAttributesOrigin": "AWS_SES_US_EAST_1"},
    )
    check(False, "a replica of an unverified parent is refused")
except ireland.exceptions.BadRequestException as error:
    check("verified" in error.response["Error"]["Message"], "sesv2 in eu-west-1 refuses a DEED replica of a parent that is not verified (BadRequestException)")
try:
    home.create_email_identity(
        EmailIdentity=f"self-{domain}",
        DkimSigningAttributes={"DomainSigningAttributesOrigin": "AWS_SES_US_EAST_1"},
    )
    check(False, "a replica of its own Region is refused")
except home.exceptions.BadRequestException:
    check(True, "sesv2 refuses a DEED replica whose parent Region is its own")

print("boto3 conformance: all checks passed")
