// The variables a shell needs to send its agents through the proxy (the README lists them and
// why). Tools whose CA variable *replaces* the default roots get the
// bundle (system roots + our CA); the ones that add to them get our CA alone.

export interface EnvironmentInputs {
  proxyUrl: string;
  caCertPath: string;
  caBundlePath: string;
}

export function shellEnvironment({ proxyUrl, caCertPath, caBundlePath }: EnvironmentInputs): Record<string, string> {
  return {
    HTTPS_PROXY: proxyUrl,
    https_proxy: proxyUrl,
    HTTP_PROXY: proxyUrl,
    http_proxy: proxyUrl,
    ALL_PROXY: proxyUrl,
    all_proxy: proxyUrl,
    // The Codex TUI sends its own loopback MCP traffic through any proxy it is given.
    NO_PROXY: 'localhost,127.0.0.1,::1',
    no_proxy: 'localhost,127.0.0.1,::1',
    NODE_EXTRA_CA_CERTS: caCertPath,
    CODEX_CA_CERTIFICATE: caCertPath,
    // Node's fetch ignores the proxy variables without this (Node 22.21+, 24+).
    NODE_USE_ENV_PROXY: '1',
    SSL_CERT_FILE: caBundlePath,
    REQUESTS_CA_BUNDLE: caBundlePath,
    CURL_CA_BUNDLE: caBundlePath,
    GIT_SSL_CAINFO: caBundlePath,
  };
}

/** The environment for a proxy on 127.0.0.1:`port`; with a label (and a token), the URL carries them as credentials. */
export function proxyEnvironment(port: number, ca: { certPath: string; bundlePath: string }, token: string | undefined, label?: string): Record<string, string> {
  const proxyUrl = label !== undefined && token !== undefined
    ? `http://${encodeURIComponent(label)}:${encodeURIComponent(token)}@127.0.0.1:${port}`
    : `http://127.0.0.1:${port}`;
  return shellEnvironment({ proxyUrl, caCertPath: ca.certPath, caBundlePath: ca.bundlePath });
}
