"""Conformance: boto3, an independent client, against the sandbox's emulated AWS services.

Usage: python3 test/conformance/sandbox_boto3.py http://127.0.0.1:PORT
Exits non-zero on the first failed check.
"""

import json
import re
import sys
import uuid

import boto3

ENDPOINT = sys.argv[1]


def client(service):
    return boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id="dummy",
        aws_secret_access_key="dummy",
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
check(len(tokens) == 3 and all(re.fullmatch(r"[a-z0-9]{32}", t) for t in tokens), "sesv2 create returns three DKIM tokens")
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

print("boto3 conformance: all checks passed")
