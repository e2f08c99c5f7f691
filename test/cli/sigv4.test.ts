import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createSigner, regionOfApiUrl } from '#cli/sigv4.js';

// Known vectors, computed independently of the CLI: AWS's own SigV4 test suite, and requests
// of this API signed by botocore's SigV4Auth (fixtures/sigv4-vectors.py wrote the JSON).

interface Vector {
  name: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string | null;
  session_token?: boolean | string;
  expected: { authorization: string; 'x-amz-date'?: string; 'x-amz-security-token'?: string };
}

interface VectorFile {
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  region: string;
  service: string;
  signing_date: string;
  vectors: Vector[];
}

const load = (name: string): VectorFile =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as VectorFile;

function sessionTokenOf(file: VectorFile, vector: Vector): string | undefined {
  if (typeof vector.session_token === 'string') return vector.session_token;
  return vector.session_token === true ? file.credentials.sessionToken : undefined;
}

async function sign(file: VectorFile, vector: Vector) {
  const token = sessionTokenOf(file, vector);
  const signer = createSigner({
    region: file.region,
    service: file.service,
    credentials: {
      accessKeyId: file.credentials.accessKeyId,
      secretAccessKey: file.credentials.secretAccessKey,
      ...(token !== undefined && { sessionToken: token }),
    },
  });
  return signer(
    {
      method: vector.method,
      url: new URL(vector.url),
      headers: { ...vector.headers },
      ...(typeof vector.body === 'string' && { body: vector.body }),
    },
    new Date(file.signing_date),
  );
}

describe('SigV4 signing', () => {
  const suite = load('sigv4-aws-suite.json');
  it.each(suite.vectors.map((vector) => [vector.name, vector] as const))(
    'signs AWS test suite case %s as AWS expects',
    async (_name, vector) => {
      const headers = await sign(suite, vector);

      expect(headers.authorization).toBe(vector.expected.authorization);
      expect(headers['x-amz-date']).toBe('20150830T123600Z');
    },
  );

  const api = load('sigv4-vectors.json');
  it.each(api.vectors.map((vector) => [vector.name, vector] as const))(
    'signs %s as botocore does, for execute-api',
    async (_name, vector) => {
      const headers = await sign(api, vector);

      expect(headers.authorization).toBe(vector.expected.authorization);
      expect(headers['x-amz-date']).toBe(vector.expected['x-amz-date']);
      expect(headers['x-amz-security-token']).toBe(vector.expected['x-amz-security-token']);
      expect(headers.host).toBe(new URL(vector.url).host);
    },
  );

  it('changes the signature when one byte of the body changes', async () => {
    const [post] = api.vectors;
    const vector = post as Vector;
    const headers = await sign(api, { ...vector, body: `${vector.body as string} ` });

    expect(headers.authorization).not.toBe(vector.expected.authorization);
  });

  it('signs the host with its port when the URL has one', async () => {
    const signer = createSigner({
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    });
    const headers = await signer({
      method: 'GET',
      url: new URL('http://127.0.0.1:3000/identities'),
      headers: {},
    });

    expect(headers.host).toBe('127.0.0.1:3000');
    expect(headers.authorization).toMatch(/SignedHeaders=host;x-amz-date,/);
  });
});

describe('the Region of an API URL', () => {
  it.each([
    ['https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com', 'eu-west-1'],
    ['https://a1b2c3d4e5.execute-api.ap-southeast-2.amazonaws.com/', 'ap-southeast-2'],
    ['https://a1b2c3d4e5.execute-api.us-gov-west-1.amazonaws.com', 'us-gov-west-1'],
    ['https://a1b2c3d4e5.execute-api.cn-north-1.amazonaws.com.cn', 'cn-north-1'],
    ['https://a1b2c3d4e5-vpce-0123456789abcdef0.execute-api.us-east-2.amazonaws.com', 'us-east-2'],
  ])('reads %s as %s', (url, region) => {
    expect(regionOfApiUrl(new URL(url))).toBe(region);
  });

  it.each([
    'https://api.example.com/ses',
    'http://127.0.0.1:3000',
    'https://execute-api.eu-west-1.amazonaws.com.example.org',
  ])('finds none in %s', (url) => {
    expect(regionOfApiUrl(new URL(url))).toBeUndefined();
  });
});
