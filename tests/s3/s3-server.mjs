// tests/s3/s3-server.mjs: a real S3-compatible server for the tests.
//
//   node s3-server.mjs --dir DIR [--port 0] [--bucket ds-test] [--region us-east-1]
//
// s3rver (pinned in package.json) stores the objects in DIR. It does not
// check AWS Signature V4, so every request first passes a front that does:
// it recomputes the signature with aws4, an implementation independent of
// ours, from the headers the request says it signed, checks the payload hash
// against the body, the date against the clock and the key id against
// DS_S3_ACCESS_KEY_ID, and answers 403 SignatureDoesNotMatch otherwise.
//
// Prints "listening on http://127.0.0.1:PORT" when ready. Test controls
// (never signed, never forwarded):
//   POST /__fault?mode=down   drop every S3 request's connection (store down)
//   POST /__fault?mode=up     serve again
//   GET  /__stats             {"verified": N, "rejected": M}
import http from 'node:http';
import crypto from 'node:crypto';
import aws4 from 'aws4';
import S3rver from 's3rver';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const dir = args.dir;
const bucket = args.bucket ?? 'ds-test';
const region = args.region ?? 'us-east-1';
const accessKeyId = process.env.DS_S3_ACCESS_KEY_ID;
const secretAccessKey = process.env.DS_S3_SECRET_ACCESS_KEY;
if (!dir || !accessKeyId || !secretAccessKey) {
  console.error('usage: DS_S3_ACCESS_KEY_ID=.. DS_S3_SECRET_ACCESS_KEY=.. node s3-server.mjs --dir DIR [--port P]');
  process.exit(2);
}

const backend = new S3rver({
  address: '127.0.0.1',
  port: 0,
  directory: dir,
  silent: true,
  configureBuckets: [{ name: bucket }],
});
const info = await backend.run();
const backendPort = info.port;

let down = false;
const stats = { verified: 0, rejected: 0 };

function verify(req, body) {
  const auth = req.headers.authorization ?? '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return 'malformed Authorization header';
  const [, keyId, date, signedRegion, signedHeaders, signature] = m;
  if (keyId !== accessKeyId) return 'unknown access key id';
  if (signedRegion !== region) return `signed for region ${signedRegion}, not ${region}`;
  const names = signedHeaders.split(';');
  for (const required of ['host', 'x-amz-content-sha256', 'x-amz-date']) {
    if (!names.includes(required)) return `${required} is not signed`;
  }
  const amzDate = req.headers['x-amz-date'];
  if (!amzDate?.startsWith(date)) return 'x-amz-date does not match the credential scope';
  const when = Date.parse(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
  if (!(Math.abs(Date.now() - when) < 15 * 60 * 1000)) return 'x-amz-date is not within 15 minutes';
  const payloadHash = crypto.createHash('sha256').update(body).digest('hex');
  if (req.headers['x-amz-content-sha256'] !== payloadHash) return 'x-amz-content-sha256 is not the hash of the body';
  const headers = {};
  for (const name of names) {
    if (req.headers[name] === undefined) return `signed header ${name} is missing`;
    headers[name] = req.headers[name];
  }
  const expected = aws4.sign(
    { host: req.headers.host, method: req.method, path: req.url, headers, service: 's3', region },
    { accessKeyId, secretAccessKey },
  );
  const want = /Signature=([0-9a-f]{64})/.exec(expected.headers.Authorization)[1];
  if (want !== signature) return 'signature does not match';
  return null;
}

const front = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/__fault' && req.method === 'POST') {
      down = url.searchParams.get('mode') === 'down';
      res.writeHead(204).end();
      return;
    }
    if (url.pathname === '/__stats') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
      return;
    }
    if (down) {
      req.socket.destroy();
      return;
    }
    const why = verify(req, body);
    if (why) {
      stats.rejected++;
      console.error(`s3-server: rejected ${req.method} ${req.url}: ${why}`);
      res.writeHead(403, { 'content-type': 'application/xml' }).end(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code><Message>${why}</Message></Error>`,
      );
      return;
    }
    stats.verified++;
    const headers = { ...req.headers };
    delete headers.authorization;  // s3rver would try to check it itself
    const up = http.request(
      { host: '127.0.0.1', port: backendPort, method: req.method, path: req.url, headers },
      (r) => {
        res.writeHead(r.statusCode, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', (e) => {
      res.writeHead(502).end(String(e));
    });
    up.end(body);
  });
});
front.keepAliveTimeout = 60000;
front.listen(Number(args.port ?? 0), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${front.address().port}`);
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    front.close();
    await backend.close();
    process.exit(0);
  });
}
