import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';

/** Test keys, generated per run so that no private key is ever committed to the repository. */
function rsa(bits: number): KeyObject {
  return generateKeyPairSync('rsa', { modulusLength: bits }).privateKey;
}

function der(key: KeyObject, type: 'pkcs1' | 'pkcs8'): string {
  return key.export({ type, format: 'der' }).toString('base64');
}

function spki(key: KeyObject): string {
  return createPublicKey(key).export({ type: 'spki', format: 'der' }).toString('base64');
}

const rsa1024 = rsa(1024);
const rsa2048 = rsa(2048);

export const testKeys = {
  rsa1024Pkcs1: der(rsa1024, 'pkcs1'),
  rsa1024Pkcs8: der(rsa1024, 'pkcs8'),
  rsa1024PublicKey: spki(rsa1024),
  rsa2048Pkcs1: der(rsa2048, 'pkcs1'),
  rsa2048Pkcs8: der(rsa2048, 'pkcs8'),
  rsa2048PublicKey: spki(rsa2048),
  rsa2048Pem: rsa2048.export({ type: 'pkcs8', format: 'pem' }).toString(),
  rsa512Pkcs1: der(rsa(512), 'pkcs1'),
  rsa2304Pkcs1: der(rsa(2304), 'pkcs1'),
  ecPkcs8: der(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey, 'pkcs8'),
};
