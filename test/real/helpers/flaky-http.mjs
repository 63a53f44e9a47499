// Runs inside a test network namespace (`ip netns exec <ns> node flaky-http.mjs <port> <plan.json>`):
// an HTTP server on 127.0.0.1:<port>, behind a test-only nginx `proxy_pass` (LabOptions.proxy),
// that serves each planned URL path's file but misbehaves first, as a boot server does while it
// restarts or before a release file is in place:
//   { "<path>": { "file": "<local file>", "cut": n } }      the first n answers send the headers
//                                                           and half the body, then reset the connection
//   { "<path>": { "file": "<local file>", "missing": n } }  the first n answers are 404
// Every request is printed as one line: `FLAKY <path> <answer>`. Plain JavaScript so that it
// starts without tsx. Used by test/real/media.test.ts.
import { createReadStream, readFileSync, statSync } from 'node:fs';
import http from 'node:http';

const port = Number(process.argv[2]);
const plan = JSON.parse(readFileSync(process.argv[3], 'utf8'));
const seen = new Map();

http
  .createServer((req, res) => {
    const p = plan[req.url ?? ''];
    if (!p) {
      console.log(`FLAKY ${req.url} 404-unplanned`);
      res.writeHead(404).end();
      return;
    }
    const n = (seen.get(req.url) ?? 0) + 1;
    seen.set(req.url, n);
    const size = statSync(p.file).size;
    if (n <= (p.missing ?? 0)) {
      console.log(`FLAKY ${req.url} 404 (${n} of ${p.missing})`);
      res.writeHead(404, { 'content-type': 'text/html' }).end('<html><body>404 Not Found</body></html>\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
    if (n <= (p.cut ?? 0)) {
      console.log(`FLAKY ${req.url} cut after ${Math.floor(size / 2)} of ${size} bytes (${n} of ${p.cut})`);
      res.write(readFileSync(p.file).subarray(0, Math.floor(size / 2)), () => setTimeout(() => req.socket.resetAndDestroy(), 200));
      return;
    }
    console.log(`FLAKY ${req.url} 200 ${size} bytes`);
    createReadStream(p.file).pipe(res);
  })
  .listen(port, '127.0.0.1', () => console.log(`FLAKY listening ${port}`));
