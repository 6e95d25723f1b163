// Leaf certificates: openssl accepts what the name constraints permit and refuses the rest,
// real TLS handshakes on 127.0.0.1 succeed, and the context cache behaves.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tls from 'node:tls';
import forge from 'node-forge';
import { loadOrCreateCa, type CertificateAuthority } from '../../src/proxy/ca';
import { createLeafIssuer, issueLeaf } from '../../src/proxy/cert-leaf';
import { generateLeafKey } from '../../src/proxy/cert-signing';
import { LeafCertificates } from '../../src/proxy/certificates';

const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'llmc-cert-'));
let withIps: CertificateAuthority; // api.anthropic.com, *.example.com, 127.0.0.1, ::1
let namesOnly: CertificateAuthority; // api.anthropic.com
let leafKey: KeyObject;

before(async () => {
  withIps = await loadOrCreateCa(join(dir, 'a'), ['api.anthropic.com', '*.example.com', '127.0.0.1', '::1']);
  namesOnly = await loadOrCreateCa(join(dir, 'b'), ['api.anthropic.com']);
  leafKey = await generateLeafKey();
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Issues a leaf without consulting the intercept policy, as a leaked CA key could. */
function leafPem(ca: CertificateAuthority, host: string): string {
  return issueLeaf(createLeafIssuer(ca, leafKey), host, 30, Date.now()).certPem;
}

let files = 0;
function opensslVerify(ca: CertificateAuthority, pem: string, ...extra: string[]): { ok: boolean; output: string } {
  const path = join(dir, `leaf-${files++}.pem`);
  writeFileSync(path, pem);
  const r = spawnSync('openssl', ['verify', '-CAfile', ca.files.certPath, ...extra, path], { encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

function listen(server: Server | tls.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function connect(options: tls.ConnectionOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(options, () => resolve(socket));
    socket.once('error', reject);
  });
}

test('leaves for intercepted names and IP addresses pass openssl verify, host and IP checks included', () => {
  for (const host of ['api.anthropic.com', 'a.example.com', 'deep.b.example.com']) {
    const r = opensslVerify(withIps, leafPem(withIps, host), '-verify_hostname', host);
    assert.ok(r.ok, `${host}: ${r.output}`);
  }
  for (const ip of ['127.0.0.1', '::1']) {
    const r = opensslVerify(withIps, leafPem(withIps, ip), '-verify_ip', ip);
    assert.ok(r.ok, `${ip}: ${r.output}`);
  }
});

test('a leaf carries what clients check: SAN, serverAuth, CA:false, a short validity, the CA as issuer', () => {
  const now = Date.now();
  const name = new X509Certificate(leafPem(withIps, 'api.anthropic.com'));
  assert.equal(name.subjectAltName, 'DNS:api.anthropic.com');
  assert.equal(name.subject, 'CN=api.anthropic.com');
  assert.equal(name.ca, false);
  assert.deepEqual(name.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  // The shared leaf key is P-256: one cheap ECDSA signature per handshake.
  assert.equal(name.publicKey.asymmetricKeyType, 'ec');
  assert.equal(name.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.ok(name.checkIssued(new X509Certificate(withIps.certPem)));
  assert.ok(Math.abs(Date.parse(name.validFrom) - (now - DAY)) < 60_000);
  assert.ok(Math.abs(Date.parse(name.validTo) - (now + 30 * DAY)) < 60_000);

  // An IP leaf has no CN: OpenSSL would read "127.0.0.1" in a CN as a DNS name and apply the
  // dNSName constraints to it. Its SAN is an iPAddress, and critical because the subject is empty.
  const ipPem = leafPem(withIps, '[::1]');
  const ip = new X509Certificate(ipPem);
  assert.equal(ip.subjectAltName, 'IP Address:0:0:0:0:0:0:0:1');
  assert.ok(!ip.subject, `subject ${ip.subject}`);
  // forge cannot parse an EC certificate, so ask openssl whether the SAN is critical.
  const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: ipPem }).toString();
  assert.match(text, /X509v3 Subject Alternative Name: critical/);

  // The issuer is the CA's subject byte for byte (rustls-webpki compares bytes).
  const tbs = (pem: string) => forge.asn1.fromDer(forge.pem.decode(pem)[0].body).value[0] as forge.asn1.Asn1;
  const der = (node: forge.asn1.Asn1) => forge.asn1.toDer(node).getBytes();
  const leafTbs = tbs(leafPem(withIps, 'api.anthropic.com')).value as forge.asn1.Asn1[];
  const caTbs = tbs(withIps.certPem).value as forge.asn1.Asn1[];
  assert.equal(der(leafTbs[3]), der(caTbs[5]));
});

test('name constraints: openssl refuses a leaf for a host outside the list', () => {
  // (example.com itself, the parent of *.example.com, is inside the RFC 5280 form of the
  // constraint; see dnsConstraintFor. LeafCertificates refuses to issue it.)
  for (const host of ['evil.com', 'notexample.com', 'anthropic.com', 'x.anthropic.com', 'api.openai.com']) {
    const r = opensslVerify(withIps, leafPem(withIps, host));
    assert.ok(!r.ok, `${host} was accepted`);
    assert.match(r.output, /permitted subtree violation/, host);
  }
});

test('name constraints: an IP leaf is refused when no IP pattern exists, or when its IP is not listed', () => {
  for (const ip of ['127.0.0.1', '10.0.0.1', '::1']) {
    const r = opensslVerify(namesOnly, leafPem(namesOnly, ip));
    assert.ok(!r.ok, `${ip} was accepted`);
    assert.match(r.output, /excluded subtree violation/, ip);
  }
  for (const ip of ['10.0.0.1', '::2']) {
    const r = opensslVerify(withIps, leafPem(withIps, ip));
    assert.ok(!r.ok, `${ip} was accepted`);
    assert.match(r.output, /permitted subtree violation/, ip);
  }
});

test('name constraints: a CA made for IP addresses only cannot vouch for any name', async () => {
  const ipOnly = await loadOrCreateCa(join(dir, 'c'), ['127.0.0.1']);
  assert.ok(opensslVerify(ipOnly, leafPem(ipOnly, '127.0.0.1')).ok);
  const r = opensslVerify(ipOnly, leafPem(ipOnly, 'api.anthropic.com'));
  assert.ok(!r.ok);
  assert.match(r.output, /permitted subtree violation/);
});

// pyca/cryptography's verifier (Rust, strict DER, RFC 5280 name constraints): a second opinion
// independent of OpenSSL. It rejects the whole CA for a malformed constraint, such as ".example.com".
const PYCA_VERIFY = `
import ipaddress, sys
from cryptography import x509
from cryptography.x509.verification import PolicyBuilder, Store
ca, leaf, host = sys.argv[1:]
load = lambda p: x509.load_pem_x509_certificate(open(p, "rb").read())
try: name = x509.IPAddress(ipaddress.ip_address(host))
except ValueError: name = x509.DNSName(host)
PolicyBuilder().store(Store([load(ca)])).build_server_verifier(name).verify(load(leaf), [])
`;

test('a second verifier agrees: pyca/cryptography, when python3 has it', (t) => {
  if (spawnSync('python3', ['-c', 'import cryptography.x509.verification']).status !== 0) {
    t.skip('python3 with cryptography >= 42 is not available');
    return;
  }
  const cases: [CertificateAuthority, string, boolean][] = [
    [withIps, 'api.anthropic.com', true],
    [withIps, 'x.y.example.com', true],
    [withIps, '127.0.0.1', true],
    [withIps, '::1', true],
    [withIps, 'evil.com', false],
    [withIps, '10.0.0.1', false],
    [namesOnly, '127.0.0.1', false],
  ];
  for (const [ca, host, expected] of cases) {
    const path = join(dir, `leaf-${files++}.pem`);
    writeFileSync(path, leafPem(ca, host));
    const r = spawnSync('python3', ['-c', PYCA_VERIFY, ca.files.certPath, path, host], { encoding: 'utf8' });
    assert.equal(r.status === 0, expected, `${host}: ${r.stderr.trim().split('\n').pop() ?? ''}`);
  }
});

test('a TLS handshake through SNICallback succeeds with ALPN http/1.1 and a matching identity', async (t) => {
  const leaves = await LeafCertificates.create(withIps);
  const server = tls.createServer(
    {
      ALPNProtocols: ['http/1.1'],
      SNICallback: (name, cb) => {
        try {
          cb(null, leaves.secureContextFor(name));
        } catch (err) {
          cb(err as Error);
        }
      },
    },
    (socket) => socket.end('hello'),
  );
  const port = await listen(server);
  t.after(() => server.close());

  const socket = await connect({ host: '127.0.0.1', port, servername: 'api.anthropic.com', ca: withIps.certPem, ALPNProtocols: ['h2', 'http/1.1'] });
  assert.equal(socket.authorized, true);
  assert.equal(socket.alpnProtocol, 'http/1.1');
  const peer = socket.getPeerCertificate();
  assert.equal(tls.checkServerIdentity('api.anthropic.com', peer), undefined);
  assert.equal(peer.subject.CN, 'api.anthropic.com');
  socket.destroy();

  // A host outside the list gets no certificate at all: the handshake fails on the server side.
  await assert.rejects(connect({ host: '127.0.0.1', port, servername: 'evil.com', ca: withIps.certPem }));
});

test('a TLS handshake for an IP host (no SNI) through a server-side TLSSocket', async (t) => {
  const leaves = await LeafCertificates.create(withIps);
  const server = createNetServer((raw) => {
    const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: leaves.secureContextFor('127.0.0.1'), ALPNProtocols: ['http/1.1'] });
    secure.on('error', () => undefined);
    secure.end('hello');
  });
  const port = await listen(server);
  t.after(() => server.close());

  const socket = await connect({ host: '127.0.0.1', port, ca: withIps.certPem, ALPNProtocols: ['http/1.1'] });
  assert.equal(socket.authorized, true);
  assert.equal(socket.alpnProtocol, 'http/1.1');
  assert.equal(tls.checkServerIdentity('127.0.0.1', socket.getPeerCertificate()), undefined);
  socket.destroy();
});

test('a Node client refuses a leaf outside the name constraints even though our CA signed it', async (t) => {
  const context = tls.createSecureContext({
    key: leafKey.export({ type: 'pkcs8', format: 'pem' }),
    cert: leafPem(withIps, 'evil.com'),
  });
  const server = tls.createServer({ SNICallback: (_name, cb) => cb(null, context) }, (s) => s.end());
  const port = await listen(server);
  t.after(() => server.close());
  await assert.rejects(connect({ host: '127.0.0.1', port, servername: 'evil.com', ca: withIps.certPem }), /subtree/i);
});

test('the cache returns the same context for the same host, however it is spelled', async () => {
  const leaves = await LeafCertificates.create(withIps);
  const first = leaves.secureContextFor('api.anthropic.com');
  assert.equal(leaves.secureContextFor('api.anthropic.com'), first);
  assert.equal(leaves.secureContextFor('API.Anthropic.COM.'), first);
  assert.equal(leaves.issuedCount, 1);
  assert.notEqual(leaves.secureContextFor('a.example.com'), first);
  assert.equal(leaves.secureContextFor('[::1]'), leaves.secureContextFor('::1'));
  assert.equal(leaves.issuedCount, 3);
});

test('a cached context is re-issued a day before its certificate expires', async () => {
  let clock = Date.parse('2030-01-01T00:00:00Z');
  const leaves = await LeafCertificates.create(withIps, { validityDays: 3, now: () => clock });
  const first = leaves.secureContextFor('api.anthropic.com');
  clock += 2 * DAY - 1;
  assert.equal(leaves.secureContextFor('api.anthropic.com'), first);
  clock += 1;
  assert.notEqual(leaves.secureContextFor('api.anthropic.com'), first);
  assert.equal(leaves.issuedCount, 2);
});

test('the cache is bounded and drops the least recently used host', async () => {
  const leaves = await LeafCertificates.create(withIps, { maxHosts: 2 });
  const a = leaves.secureContextFor('a.example.com');
  leaves.secureContextFor('b.example.com');
  assert.equal(leaves.secureContextFor('a.example.com'), a); // a is now the most recent
  leaves.secureContextFor('c.example.com'); // evicts b
  assert.equal(leaves.issuedCount, 3);
  assert.equal(leaves.secureContextFor('a.example.com'), a);
  leaves.secureContextFor('b.example.com');
  assert.equal(leaves.issuedCount, 4);
});

test('refuses hosts outside the patterns, malformed names, and unusable options', async () => {
  const leaves = await LeafCertificates.create(withIps);
  assert.throws(() => leaves.secureContextFor('evil.com'), /outside the CA's intercepted hosts/);
  assert.throws(() => leaves.secureContextFor('example.com'), /outside the CA's intercepted hosts/);
  assert.throws(() => leaves.secureContextFor('10.0.0.1'), /outside the CA's intercepted hosts/);
  assert.throws(() => leaves.secureContextFor('bad host.example.com'), /not a host name/);
  assert.equal(leaves.issuedCount, 0);
  await assert.rejects(LeafCertificates.create(withIps, { validityDays: 400 }), RangeError);
});

test('prewarm issues the exact patterns ahead of time, off the main thread', async () => {
  const leaves = await LeafCertificates.create(withIps);
  assert.equal(await leaves.prewarm(), 3); // api.anthropic.com, 127.0.0.1, ::1; the wildcard is skipped
  assert.equal(await leaves.prewarm(['x.example.com', 'evil.com', 'api.anthropic.com']), 1);
  const issued = leaves.issuedCount;
  leaves.secureContextFor('api.anthropic.com');
  leaves.secureContextFor('x.example.com');
  assert.equal(leaves.issuedCount, issued);
});
