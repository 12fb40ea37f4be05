// A webhook receiver for the quickstart: verifies each request's Standard Webhooks
// signature with WEBHOOK_SECRET (the whsec_… secret that sk-listen prints) and prints
// the events it accepts. No dependencies; in production use the `standardwebhooks`
// package of your language, which does exactly this.
//
//   WEBHOOK_SECRET=whsec_… node examples/receiver.mjs [port]      (default 4242)
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

const secret = process.env.WEBHOOK_SECRET ?? '';
if (!secret.startsWith('whsec_')) {
  console.error('Set WEBHOOK_SECRET to the whsec_… secret that sk-listen printed.');
  process.exit(2);
}
const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
const port = Number(process.argv[2] ?? 4242);
const toleranceSeconds = 5 * 60;

// True when one of the v1 signatures is HMAC-SHA256(key, "{id}.{timestamp}.{body}").
function verified(headers, body) {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (!id || !timestamp || !signatures) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > toleranceSeconds) return false;
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
  return signatures.split(' ').some((entry) => {
    const [version, signature] = entry.split(',');
    const given = Buffer.from(signature ?? '', 'base64');
    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (req.method !== 'POST' || !verified(req.headers, body)) {
      console.log(`rejected ${req.method} ${req.url}: signature did not verify`);
      res.writeHead(400).end();
      return;
    }
    const event = JSON.parse(body.toString('utf8'));
    console.log(`verified ${event.type} ${event.id}`);
    res.writeHead(204).end();
  });
}).listen(port, '127.0.0.1', () => console.log(`Listening on http://localhost:${port}/hook, verifying signatures`));
