// The floor under any HTTPS JSON API on this machine: a bare node HTTPS server
// that parses each request body as JSON and answers it, stamped, with 201.
// bench/server.ts measures it with the same wrk load as berth's creates.
import { createServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const pki = process.argv[2];
const server = createServer({ key: readFileSync(join(pki, 'server.key')), cert: readFileSync(join(pki, 'server.crt')) }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const obj = JSON.parse(Buffer.concat(chunks).toString()) as { metadata: Record<string, unknown> };
    obj.metadata.uid = 'echo';
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(JSON.stringify(obj));
  });
});
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  if (addr && typeof addr === 'object') process.stdout.write(`listening on https://127.0.0.1:${addr.port}\n`);
});
