// The server certificate for one host, signed by our CA. It does not consult the intercept
// policy: LeafCertificates does that before calling here, and tests call here directly to show
// that clients refuse a leaf outside the CA's name constraints.
import type { KeyObject } from 'node:crypto';
import forge from 'node-forge';
import type { CertificateAuthority } from './ca';
import { ipToBytes } from './cert-name-constraints';
import { randomSerialNumber, signCertificate, signCertificateAsync, subjectPublicKeyInfo } from './cert-signing';
import { stripBrackets } from './intercept-policy';

/** Everything needed to issue leaves, prepared once. */
export interface LeafIssuer {
  ca: CertificateAuthority;
  /** The SubjectPublicKeyInfo of the one (P-256) leaf key that all hosts share. */
  spki: forge.asn1.Asn1;
  /** The CA's subjectKeyIdentifier (binary string), repeated as each leaf's authorityKeyIdentifier. */
  caKeyId: string;
  /** The CA's subject, to be copied byte for byte into each leaf's issuer. */
  issuerName: forge.pki.CertificateField[];
}

export interface IssuedLeaf {
  certPem: string;
  notAfter: Date;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const UTF8 = forge.asn1.Type.UTF8 as unknown as forge.asn1.Class;

export function createLeafIssuer(ca: CertificateAuthority, leafKey: KeyObject): LeafIssuer {
  const ski = ca.cert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | undefined;
  const caKeyId = ski?.subjectKeyIdentifier
    ? forge.util.hexToBytes(ski.subjectKeyIdentifier)
    : ca.cert.generateSubjectKeyIdentifier().getBytes();
  // forge keeps parsed UTF8String values as raw UTF-8 and encodes them again on output; decode
  // them first, so that chain building (byte comparison in rustls-webpki) still finds our CA.
  const issuerName = ca.cert.subject.attributes.map((a) => ({
    ...a,
    value: a.valueTagClass === UTF8 && typeof a.value === 'string' ? forge.util.decodeUtf8(a.value) : a.value,
  }));
  return { ca, spki: subjectPublicKeyInfo(leafKey), caKeyId, issuerName };
}

/** Lower-case, without brackets or a trailing dot; throws for what cannot be a TLS server name. */
export function normalizeHost(hostname: string): string {
  const host = stripBrackets(hostname.trim().toLowerCase()).replace(/\.$/, '');
  if (ipToBytes(host)) return host.replace(/%.*$/, '');
  const labels = host.split('.');
  const valid =
    host.length > 0 &&
    host.length <= 253 &&
    labels.every((l) => l.length <= 63 && /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/.test(l));
  if (!valid) throw new Error(`"${hostname}" is not a host name or IP address`);
  return host;
}

/** Issues a leaf for a normalized host, signing on this thread (about a millisecond). */
export function issueLeaf(issuer: LeafIssuer, host: string, validityDays: number, now: number): IssuedLeaf {
  const cert = buildLeaf(issuer, host, validityDays, now);
  return { certPem: signCertificate(cert, issuer.ca.key, issuer.spki), notAfter: cert.validity.notAfter };
}

/** The same, signing in the thread pool. */
export async function issueLeafAsync(issuer: LeafIssuer, host: string, validityDays: number, now: number): Promise<IssuedLeaf> {
  const cert = buildLeaf(issuer, host, validityDays, now);
  return { certPem: await signCertificateAsync(cert, issuer.ca.key, issuer.spki), notAfter: cert.validity.notAfter };
}

function buildLeaf(issuer: LeafIssuer, host: string, validityDays: number, now: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.version = 2; // X.509 v3
  cert.serialNumber = randomSerialNumber();
  cert.validity.notBefore = new Date(now - DAY_MS);
  const caNotAfter = issuer.ca.cert.validity.notAfter.getTime();
  cert.validity.notAfter = new Date(Math.min(now + validityDays * DAY_MS, caNotAfter));
  // forge can only lay out an RSA key; the leaf's real SPKI replaces this one before signing.
  cert.publicKey = issuer.ca.cert.publicKey;

  const ip = ipToBytes(host);
  // OpenSSL and BoringSSL check a host-like CN against the name constraints when the leaf has no
  // dNSName, and "127.0.0.1" looks like one: so an IP leaf (or a name too long for a CN) gets an
  // empty subject and, as RFC 5280 §4.2.1.6 then requires, a critical subjectAltName.
  const withCommonName = !ip && host.length <= 64;
  cert.setSubject(withCommonName ? [{ name: 'commonName', value: host, valueTagClass: UTF8 }] : []);
  cert.setIssuer(issuer.issuerName.map((a) => ({ ...a })));
  const altName = ip ? { type: 7, value: ip.toString('binary') } : { type: 2, value: host };
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    // ECDSA keys sign; keyEncipherment is for RSA key transport only (RFC 5480 §3).
    { name: 'keyUsage', critical: true, digitalSignature: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', critical: !withCommonName, altNames: [altName] },
    { name: 'authorityKeyIdentifier', keyIdentifier: issuer.caKeyId },
  ]);
  return cert;
}
