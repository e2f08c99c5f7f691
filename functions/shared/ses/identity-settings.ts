import {
  DeleteEmailIdentityCommand,
  PutEmailIdentityConfigurationSetAttributesCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-sesv2';
import { sesErrorName, toStepError } from '#shared/aws/classify-error.js';
import { sesv2Client } from '#shared/aws/clients/sesv2.js';

/**
 * The identity's ARN, which SES's tagging operations take
 * (`arn:aws:ses:REGION:ACCOUNT:identity/NAME`), in the function's own partition and Region.
 */
export function identityArn(
  identity: string,
  account: string,
  region = process.env.AWS_REGION,
): string {
  return sesArn(`identity/${identity}`, account, region);
}

/** A configuration set's ARN (`arn:aws:ses:REGION:ACCOUNT:configuration-set/NAME`). */
export function configurationSetArn(
  name: string,
  account: string,
  region = process.env.AWS_REGION,
): string {
  return sesArn(`configuration-set/${name}`, account, region);
}

function sesArn(resource: string, account: string, region: string | undefined): string {
  const partition = region?.startsWith('cn-')
    ? 'aws-cn'
    : region?.startsWith('us-gov-')
      ? 'aws-us-gov'
      : 'aws';
  return `arn:${partition}:ses:${region}:${account}:${resource}`;
}

/**
 * Makes the identity's tags the request's: adds or changes those it names, removes the others
 * (the stack manages the identity: its tags are the request's). A request without Tags leaves
 * them alone.
 */
export async function applyTags(
  arn: string,
  wanted: { Key: string; Value: string }[] | undefined,
  current: { key: string; value: string }[],
): Promise<{ added: string[]; removed: string[] }> {
  if (wanted === undefined) return { added: [], removed: [] };
  const have = new Map(current.map((tag) => [tag.key, tag.value]));
  const toSet = wanted.filter((tag) => have.get(tag.Key) !== tag.Value);
  const keep = new Set(wanted.map((tag) => tag.Key));
  const toRemove = current.map((tag) => tag.key).filter((key) => !keep.has(key));
  try {
    if (toSet.length > 0) {
      await sesv2Client.send(new TagResourceCommand({ ResourceArn: arn, Tags: toSet }));
    }
    if (toRemove.length > 0) {
      await sesv2Client.send(new UntagResourceCommand({ ResourceArn: arn, TagKeys: toRemove }));
    }
  } catch (error) {
    throw toStepError(error, `Tagging ${arn}`);
  }
  return { added: toSet.map((tag) => tag.Key), removed: toRemove };
}

/** Sets (or clears, with null) the identity's default configuration set. */
export async function setConfigurationSet(identity: string, name: string | null): Promise<void> {
  try {
    await sesv2Client.send(
      new PutEmailIdentityConfigurationSetAttributesCommand({
        EmailIdentity: identity,
        ConfigurationSetName: name ?? undefined,
      }),
    );
  } catch (error) {
    throw toStepError(error, `PutEmailIdentityConfigurationSetAttributes ${identity}`);
  }
}

/** Deletes an identity; true when SES had it (NotFound is not an error: it is gone either way). */
export async function deleteIdentity(identity: string): Promise<boolean> {
  try {
    await sesv2Client.send(new DeleteEmailIdentityCommand({ EmailIdentity: identity }));
    return true;
  } catch (error) {
    if (sesErrorName(error) === 'NotFoundException') return false;
    throw toStepError(error, `DeleteEmailIdentity ${identity}`);
  }
}
