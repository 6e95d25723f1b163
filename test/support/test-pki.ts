// A PKI for fake upstream servers, made with Debian's openssl CLI so that it shares no code
// with the proxy's own certificate authority. The proxy trusts it via `upstreamCaFiles`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isIP } from 'node:net';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  caCertPath: string;
  caCert: string;
  /** Key and certificate for a server valid for the given names. */
  serverCert(names: string[]): { key: string; cert: string };
}

export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'llmc-test-pki-'));
  const caKey = join(dir, 'ca.key');
  const caCertPath = join(dir, 'ca.pem');
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', caKey, '-out', caCertPath,
    '-days', '2', '-subj', '/CN=LLM Capture Test Upstream CA', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  let serial = 1;
  return {
    dir,
    caCertPath,
    caCert: readFileSync(caCertPath, 'utf8'),
    serverCert(names) {
      const n = serial++;
      const key = join(dir, `server${n}.key`);
      const csr = join(dir, `server${n}.csr`);
      const crt = join(dir, `server${n}.pem`);
      const ext = join(dir, `server${n}.ext`);
      const san = names.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
      writeFileSync(ext, `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`);
      openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${names[0]}`]);
      openssl(['x509', '-req', '-in', csr, '-CA', caCertPath, '-CAkey', caKey, '-set_serial', String(1000 + n), '-days', '2', '-out', crt, '-extfile', ext]);
      return { key: readFileSync(key, 'utf8'), cert: readFileSync(crt, 'utf8') };
    },
  };
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}
