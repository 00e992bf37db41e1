import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generate } from 'selfsigned';

/** A self-signed certificate for 127.0.0.1 and localhost, in PEM, and in files for what wants paths. */
export interface LoopbackCertificate {
  key: string;
  cert: string;
  keyFile: string;
  /** Also the CA file a client trusts (NODE_EXTRA_CA_CERTS): the certificate signs itself. */
  certFile: string;
  remove(): void;
}

/**
 * Test tooling: TLS on loopback. The Azure SDKs send bearer tokens over https only, and a client
 * built from a Service Bus namespace speaks only TLS, so the stand-ins of this test suite serve TLS
 * with a certificate made here for the run (never committed) that the client process is told to trust.
 */
export async function createLoopbackCertificate(): Promise<LoopbackCertificate> {
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 24 * 3_600_000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  const folder = mkdtempSync(path.join(tmpdir(), 'pchat-tls-'));
  const keyFile = path.join(folder, 'key.pem');
  const certFile = path.join(folder, 'cert.pem');
  writeFileSync(keyFile, pems.private, { mode: 0o600 });
  writeFileSync(certFile, pems.cert);
  return { key: pems.private, cert: pems.cert, keyFile, certFile, remove: () => rmSync(folder, { recursive: true, force: true }) };
}
