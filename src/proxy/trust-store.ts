// Roots for verifying upstream servers, and for the bundle we hand to tools whose CA variable
// replaces their defaults. "System roots" means the OS bundle where there is one (Debian's
// ca-certificates) plus Node's bundled Mozilla roots, plus NODE_EXTRA_CA_CERTS: passing `ca`
// to tls.connect replaces Node's default store, which would otherwise drop that variable's CAs.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';

const OS_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt', // Debian, Ubuntu, Alpine
  '/etc/pki/tls/certs/ca-bundle.crt', // Fedora, RHEL
  '/etc/ssl/cert.pem', // macOS, BSD
];

let cached: string[] | undefined;

export function systemRootCertificates(): string[] {
  if (cached) return cached;
  // Keyed by the DER bytes: the same root is often wrapped differently in two bundles.
  const byDer = new Map<string, string>();
  const add = (pem: string) => byDer.set(derKey(pem), pem.trim() + '\n');
  rootCertificates.forEach(add);
  for (const path of OS_BUNDLES) {
    const text = tryRead(path);
    if (text) {
      splitPem(text).forEach(add);
      break;
    }
  }
  const extra = process.env.NODE_EXTRA_CA_CERTS && tryRead(process.env.NODE_EXTRA_CA_CERTS);
  if (extra) splitPem(extra).forEach(add);
  cached = [...byDer.values()];
  return cached;
}

export function readPemFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read CA file ${path}: ${(e as Error).message}`);
  }
  const pems = splitPem(text);
  if (pems.length === 0) throw new Error(`CA file ${path} holds no PEM certificate`);
  // Checked here, so that a bad file fails Start: the upstream TLS context is built only after the proxy listens.
  for (const pem of pems) {
    try {
      new X509Certificate(pem);
    } catch (e) {
      throw new Error(`CA file ${path} holds a certificate that cannot be read: ${(e as Error).message}`);
    }
  }
  return pems;
}

export function splitPem(text: string): string[] {
  return (text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((p) => p.trim() + '\n');
}

function derKey(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, '');
}

function tryRead(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
