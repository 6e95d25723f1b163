// What a proxy thread booted ahead of a start (a spare: docs/decisions.md, decision 62) does while
// it waits: the first-use work of every start that does not depend on the start's options. V8
// compiles a function on its first call, so each of these is slower the first time; measured on
// a thread's first start, together about 30 ms of the ~65 ms between 'start' and 'ready'.
import forge from 'node-forge';
import { ipToBytes } from './cert-name-constraints';
import { systemRootCertificates } from './trust-store';

export function warmUp(): void {
  // The trusted roots, read and deduplicated once per thread (~9 ms).
  const roots = systemRootCertificates();
  // Node's IPv6 check compiles a large regular expression on first use (~9 ms); every host is checked.
  ipToBytes('::1');
  // The CA certificate is read with forge's PEM, ASN.1 and X.509 code (~11 ms cold); a root runs the same code.
  for (const pem of roots.slice(0, 5)) {
    try {
      forge.pki.certificateFromPem(pem);
      return;
    } catch {
      // forge reads RSA certificates only: try the next root.
    }
  }
}
