// Runs inside a test network namespace (`ip netns exec <ns> node record-proxy.mjs <config.json>`):
// a TLS pass-through in front of a BMC emulator that records what each client asked, body and
// all, since the emulator's own log keeps only the method and path (sushy-tools: Werkzeug's access
// log). It answers on `listen`:`port` with the emulator's certificate and forwards every request
// as it is, headers and body, to https://127.0.0.1:`upstream`, and the answer back as it is.
// Each request is printed as one line: `RECORD {"method":...,"path":...,"body":...}`.
// Plain JavaScript so that it starts without tsx. Used by test/real/helpers/sushy-emulator.ts.
import { readFileSync } from 'node:fs';
import https from 'node:https';

const c = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const MAX_BODY = 1024 * 1024;

https
  .createServer({ key: readFileSync(c.key), cert: readFileSync(c.cert) }, (req, res) => {
    const chunks = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      // Recorded up to MAX_BODY (a BMC script's requests are small); forwarded whole.
      console.log(`RECORD ${JSON.stringify({ method: req.method, path: req.url, body: body.subarray(0, MAX_BODY).toString('utf8') })}`);
      const up = https.request(
        { host: '127.0.0.1', port: c.upstream, method: req.method, path: req.url, headers: req.headers, rejectUnauthorized: false },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      up.on('error', (e) => {
        if (res.headersSent) res.destroy(e);
        else res.writeHead(502).end(String(e));
      });
      up.end(body);
    });
  })
  .listen(c.port, c.listen, () => console.log(`RECORD-PROXY listening ${c.listen}:${c.port}`));
