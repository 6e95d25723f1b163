// X.509 name constraints for our CA (RFC 5280 §4.2.1.10,
// https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.10): the CA can only vouch for the
// intercepted hosts, so a leaked key cannot impersonate any other site (docs/decisions.md, decision 6).
// forge cannot build this extension itself, so it is assembled here as raw ASN.1.
import { isIP } from 'node:net';
import forge from 'node-forge';

export const NAME_CONSTRAINTS_OID = '2.5.29.30';

/** A forge extension object carrying a DER value that forge passes through untouched. */
export interface RawExtension {
  id: string;
  critical: boolean;
  value: string;
}

const { Class, Type } = forge.asn1;
const DNS_NAME = 2; // GeneralName [2] IA5String
const IP_ADDRESS = 7; // GeneralName [7] OCTET STRING

/**
 * The dNSName constraint for a pattern: the name itself, `*.example.com` included, becomes
 * `example.com`. RFC 5280 defines that form as "the name and every name below it", and every
 * verifier implements it. The leading-dot form `.example.com` would say "subdomains only", which
 * is exactly the policy, and OpenSSL, BoringSSL (Bun, so Claude Code), rustls-webpki (Codex), Go
 * and NSS accept it; but it is not in RFC 5280, and strict verifiers reject the whole CA for it
 * (pyca/cryptography's verifier: "malformed DNS name constraint"). So the constraint
 * also permits the bare parent of a wildcard (and subdomains of an exact name) — names under the
 * same registrant, for which LeafCertificates still refuses to issue anything.
 */
export function dnsConstraintFor(pattern: string): string {
  return pattern.startsWith('*.') ? pattern.slice(2) : pattern;
}

/**
 * The critical nameConstraints extension for normalized intercept patterns:
 * - permitted: a dNSName per name pattern, an iPAddress (address + all-ones mask) per IP pattern;
 * - excluded: when no pattern is an IP, 0.0.0.0/0 and ::/0, because permitted dNSNames alone
 *   leave iPAddress names unconstrained (a constraint only restricts names of its own type);
 * - when no pattern is a name, the only permitted dNSName is `invalid`, a top-level domain that
 *   RFC 6761 reserves and never resolves. (An excluded "" would also say "no names", but strict
 *   verifiers reject an empty dNSName as malformed.)
 */
export function nameConstraintsExtension(patterns: readonly string[]): RawExtension {
  const ips = patterns.filter((p) => isIP(p) !== 0);
  const names = [...new Set(patterns.filter((p) => isIP(p) === 0).map(dnsConstraintFor))].sort();
  const permitted = [
    ...(names.length > 0 ? names : ['invalid']).map((n) => subtree(DNS_NAME, n)),
    ...ips.map((ip) => subtree(IP_ADDRESS, ipSubnet(ip, true))),
  ];
  const excluded: forge.asn1.Asn1[] = [];
  if (ips.length === 0) {
    excluded.push(subtree(IP_ADDRESS, ipSubnet('0.0.0.0', false)), subtree(IP_ADDRESS, ipSubnet('::', false)));
  }
  // NameConstraints ::= SEQUENCE { permittedSubtrees [0] GeneralSubtrees OPTIONAL,
  //                                excludedSubtrees  [1] GeneralSubtrees OPTIONAL }  (IMPLICIT tags)
  const parts = [forge.asn1.create(Class.CONTEXT_SPECIFIC, 0, true, permitted)];
  if (excluded.length > 0) parts.push(forge.asn1.create(Class.CONTEXT_SPECIFIC, 1, true, excluded));
  const value = forge.asn1.create(Class.UNIVERSAL, Type.SEQUENCE, true, parts);
  // RFC 5280: "Conforming CAs MUST mark this extension as critical".
  return { id: NAME_CONSTRAINTS_OID, critical: true, value: forge.asn1.toDer(value).getBytes() };
}

/** GeneralSubtree ::= SEQUENCE { base GeneralName } (minimum and maximum stay absent, as required). */
function subtree(generalNameTag: number, value: string): forge.asn1.Asn1 {
  return forge.asn1.create(Class.UNIVERSAL, Type.SEQUENCE, true, [
    forge.asn1.create(Class.CONTEXT_SPECIFIC, generalNameTag, false, value),
  ]);
}

/** Address followed by its mask (RFC 5280: 8 octets for IPv4, 32 for IPv6), as a binary string. */
function ipSubnet(ip: string, singleHost: boolean): string {
  const address = ipToBytes(ip);
  if (!address) throw new Error(`"${ip}" is not an IP address`);
  const mask = Buffer.alloc(address.length, singleHost ? 0xff : 0x00);
  return Buffer.concat([address, mask]).toString('binary');
}

/** Network-order bytes of an IPv4 or IPv6 address (brackets and a zone id are dropped). */
export function ipToBytes(ip: string): Buffer | undefined {
  const text = ip.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const family = isIP(text);
  if (family === 4) return Buffer.from(text.split('.').map(Number));
  if (family !== 6) return undefined;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  const hex = v4
    ? `${text.slice(0, v4.index)}${((+v4[1] << 8) | +v4[2]).toString(16)}:${((+v4[3] << 8) | +v4[4]).toString(16)}`
    : text;
  const [head, tail] = hex.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}
