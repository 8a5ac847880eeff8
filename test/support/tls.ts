// A throwaway certificate authority and a server certificate it signed, for tests of TLS servers on
// 127.0.0.1: made at test time with the openssl CLI (Node's crypto makes keys, not X.509 certificates)
// under a temporary directory the caller removes, so no key is ever committed. The server certificate
// names IP 127.0.0.1 and DNS localhost in its subjectAltName with serverAuth, and the CA is a v3 CA,
// as rustls (uv) requires beside OpenSSL (Node, pip). Without openssl on PATH the tests that need it
// are skipped on a developer's machine; under CI its absence fails them.
import {execFileSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {toolOnPath} from './tool.js'

export const hasOpenssl = toolOnPath('openssl', ['version'], 'the TLS index tests make their certificates with it (.ci/run installs it)')

export interface TestCertificates {
  /** The CA certificate's PEM file, what a client is told to trust (NODE_EXTRA_CA_CERTS, SSL_CERT_FILE ...). */
  caFile: string
  /** The server's certificate and key, PEM. */
  cert: string
  key: string
}

/** A fresh CA (`name` in its subject) and a server certificate for 127.0.0.1 / localhost it signed, written under `dir`. */
export function makeTestCertificates(dir: string, name = 'layers test CA'): TestCertificates {
  const file = (base: string): string => path.join(dir, base)
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, {stdio: ['ignore', 'ignore', 'pipe']})
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
  openssl('req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '2', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
  openssl('req', '-new', ...ec, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=127.0.0.1')
  writeFileSync(file('server.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n')
  openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('server.pem'), '-days', '2', '-sha256', '-extfile', file('server.ext'))
  return {caFile: file('ca.pem'), cert: readFileSync(file('server.pem'), 'utf8'), key: readFileSync(file('server.key'), 'utf8')}
}
