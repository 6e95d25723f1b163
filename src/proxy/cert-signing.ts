// Keys and signatures for our certificates. node-forge lays out the certificate, Node's native
// crypto does the expensive parts: forge's pure-JS RSA costs seconds for a key and ~10 ms per
// signature, which would block the VS Code extension host and slow every first handshake.
import { createPublicKey, generateKeyPair, randomBytes, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import forge from 'node-forge';

const generateKeyPairAsync = promisify(generateKeyPair);

/** The only signature algorithm we emit; every TLS client accepts it from an RSA-2048 CA. */
const SHA256_WITH_RSA = forge.pki.oids.sha256WithRSAEncryption;

/** @types/node-forge omits this function, which node-forge has exported since 0.x. */
const getTbsCertificate = (forge.pki as unknown as { getTBSCertificate(cert: forge.pki.Certificate): forge.asn1.Asn1 })
  .getTBSCertificate;

/** A fresh RSA-2048 private key, generated in libuv's thread pool (never the sync call). */
export async function generateRsaKey(): Promise<KeyObject> {
  const { privateKey } = await generateKeyPairAsync('rsa', { modulusLength: 2048 });
  return privateKey;
}

/**
 * The one leaf key all hosts share: ECDSA P-256. A server signs once per handshake, and a P-256
 * signature costs ~0.06 ms against ~1.2 ms for RSA-2048 (measured in bench/). Our CA stays RSA,
 * which every client accepts as an issuer.
 */
export async function generateLeafKey(): Promise<KeyObject> {
  const { privateKey } = await generateKeyPairAsync('ec', { namedCurve: 'P-256' });
  return privateKey;
}

/** A key's SubjectPublicKeyInfo as forge ASN.1: forge itself can only build RSA ones. */
export function subjectPublicKeyInfo(key: KeyObject): forge.asn1.Asn1 {
  return forge.asn1.fromDer(createPublicKey(key).export({ type: 'spki', format: 'der' }).toString('binary'));
}

/** The public half of a native key, as the object forge puts into a certificate. */
export function toForgePublicKey(key: KeyObject): forge.pki.PublicKey {
  const pem = createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
  return forge.pki.publicKeyFromPem(pem);
}

/**
 * 127 random bits as hex. RFC 5280 §4.1.2.2 wants a positive INTEGER of at most 20 octets;
 * clearing the top bit keeps it positive and setting the next one keeps the DER minimal
 * (strict parsers such as rustls-webpki reject a redundant leading zero byte).
 */
export function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] & 0x7f) | 0x40;
  return bytes.toString('hex');
}

/**
 * Signs a certificate laid out with forge using a native key, synchronously; returns PEM.
 * `spki`, when given, replaces the subject public key forge laid out (for a non-RSA subject key).
 */
export function signCertificate(cert: forge.pki.Certificate, signer: KeyObject, spki?: forge.asn1.Asn1): string {
  const tbs = prepareToBeSigned(cert, signer, spki);
  return finish(cert, sign('sha256', tbs, signer));
}

/** The same, with the RSA operation in the thread pool, for work that nobody is waiting on. */
export async function signCertificateAsync(cert: forge.pki.Certificate, signer: KeyObject, spki?: forge.asn1.Asn1): Promise<string> {
  const tbs = prepareToBeSigned(cert, signer, spki);
  const signature = await new Promise<Buffer>((resolve, reject) => {
    sign('sha256', tbs, signer, (err, sig) => (err ? reject(err) : resolve(sig)));
  });
  return finish(cert, signature);
}

/** Fixes the algorithm in both places it appears and returns the DER bytes to sign. */
function prepareToBeSigned(cert: forge.pki.Certificate, signer: KeyObject, spki: forge.asn1.Asn1 | undefined): Buffer {
  if (signer.asymmetricKeyType !== 'rsa') {
    throw new Error(`certificate signing needs an RSA key, got ${signer.asymmetricKeyType ?? 'a non-asymmetric key'}`);
  }
  cert.siginfo.algorithmOid = SHA256_WITH_RSA;
  cert.signatureOid = SHA256_WITH_RSA;
  // certificateToPem reuses this cached TBSCertificate, so the bytes signed are the bytes sent.
  cert.tbsCertificate = getTbsCertificate(cert);
  // TBSCertificate (RFC 5280 §4.1): version, serial, signature, issuer, validity, subject, SPKI, …
  if (spki) (cert.tbsCertificate.value as forge.asn1.Asn1[])[6] = spki;
  return Buffer.from(forge.asn1.toDer(cert.tbsCertificate).getBytes(), 'binary');
}

function finish(cert: forge.pki.Certificate, signature: Buffer): string {
  cert.signature = signature.toString('binary');
  return forge.pki.certificateToPem(cert);
}
