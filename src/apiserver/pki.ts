// First-start credentials: a CA, the serving certificate, and an admin client
// certificate (CN=berth-admin, O=system:masters), kept in <data-dir>/pki.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { webcrypto, randomBytes } from 'node:crypto';

export interface Credentials {
  caCert: string;
  serverCert: string;
  serverKey: string;
  adminCert: string;
  adminKey: string;
  /** A bearer token accepted as the admin user (for clients that cannot present certificates). */
  adminToken: string;
}

const FILES = ['ca.crt', 'ca.key', 'server.crt', 'server.key', 'admin.crt', 'admin.key', 'admin.token'] as const;
const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;

export async function ensureCredentials(dataDir: string, hosts: string[]): Promise<Credentials> {
  const dir = join(dataDir, 'pki');
  const path = (f: string) => join(dir, f);
  if (!FILES.every((f) => existsSync(path(f)))) await generate(dir, hosts);
  const read = (f: string) => readFileSync(path(f), 'utf8');
  return {
    caCert: read('ca.crt'),
    serverCert: read('server.crt'),
    serverKey: read('server.key'),
    adminCert: read('admin.crt'),
    adminKey: read('admin.key'),
    adminToken: read('admin.token').trim(),
  };
}

async function generate(dir: string, hosts: string[]): Promise<void> {
  // Loaded only on first start: the x509 library and its polyfill cost start-up time.
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const newKeys = () => webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
  const pemKey = async (k: CryptoKey) => {
    const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', k as webcrypto.CryptoKey));
    return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').trim()}\n-----END PRIVATE KEY-----\n`;
  };
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + TEN_YEARS_MS);
  const serial = () => randomBytes(8).toString('hex');

  const caKeys = await newKeys();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=berth-ca',
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  const issue = async (subject: string, usage: string, san?: InstanceType<typeof x509.SubjectAlternativeNameExtension>) => {
    const keys = await newKeys();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject,
      issuer: ca.subject,
      notBefore,
      notAfter,
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: alg,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([usage]),
        ...(san ? [san] : []),
      ],
    });
    return { cert: cert.toString('pem') + '\n', key: await pemKey(keys.privateKey) };
  };
  const isIp = (h: string) => /^[0-9.]+$/.test(h) || h.includes(':');
  const names = [...new Set(['localhost', '127.0.0.1', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', ...hosts])];
  const server = await issue(
    'CN=berth-apiserver',
    x509.ExtendedKeyUsage.serverAuth,
    new x509.SubjectAlternativeNameExtension(names.map((h) => ({ type: isIp(h) ? ('ip' as const) : ('dns' as const), value: h }))),
  );
  const admin = await issue('CN=berth-admin, O=system:masters', x509.ExtendedKeyUsage.clientAuth);

  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const write = (f: string, data: string) => writeFileSync(join(dir, f), data, { mode: 0o600 });
  write('ca.key', await pemKey(caKeys.privateKey));
  write('server.crt', server.cert);
  write('server.key', server.key);
  write('admin.crt', admin.cert);
  write('admin.key', admin.key);
  write('admin.token', randomBytes(32).toString('hex') + '\n');
  // Written last: its presence marks a complete set.
  write('ca.crt', ca.toString('pem') + '\n');
}

/** A kubeconfig for the admin user, certificates inlined. */
export function adminKubeconfig(server: string, creds: Credentials): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: berth',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(creds.caCert)}`,
    'users:',
    '- name: berth-admin',
    '  user:',
    `    client-certificate-data: ${b64(creds.adminCert)}`,
    `    client-key-data: ${b64(creds.adminKey)}`,
    'contexts:',
    '- name: berth',
    '  context:',
    '    cluster: berth',
    '    user: berth-admin',
    '    namespace: default',
    'current-context: berth',
    'preferences: {}',
    '',
  ].join('\n');
}

export function writeKubeconfig(file: string, content: string): void {
  writeFileSync(file, content, { mode: 0o600 });
}
