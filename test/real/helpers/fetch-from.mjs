// Runs inside a test network namespace (`ip netns exec <ns> node fetch-from.mjs <requests.json>`):
// GETs each request from its own source address (one of the namespace's), never following a
// redirect, and prints the results as one JSON line: status, body SHA-256, size and type; a request
// with `save` also has its body written to that file. Plain JavaScript so that it starts without
// tsx. Used by test/real/helpers/access.ts.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';

const { host, port, requests } = JSON.parse(readFileSync(process.argv[2], 'utf8'));

function get(r) {
  return new Promise((resolve) => {
    const req = http.request(
      {
        host,
        port,
        path: r.path,
        method: 'GET',
        agent: false,
        localAddress: r.from,
        headers: { Host: r.hostHeader ?? host, 'User-Agent': 'harvgen-real-test', ...(r.headers ?? {}) },
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          if (r.save) writeFileSync(r.save, body);
          resolve({
            status: res.statusCode ?? 0,
            sha256: createHash('sha256').update(body).digest('hex'),
            size: body.length,
            contentType: res.headers['content-type'] ?? '',
          });
        });
        res.on('error', (e) => resolve({ status: 0, error: String(e) }));
      },
    );
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: 0, error: String(e) }));
    req.end();
  });
}

const results = [];
for (const r of requests) results.push(await get(r));
process.stdout.write(JSON.stringify(results) + '\n');
