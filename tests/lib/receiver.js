// receiver.js: a webhook receiver on 127.0.0.1 for the suites: keeps every request, checks its Standard Webhooks signature, answers as told.
'use strict';
const crypto = require('crypto');
const http = require('http');
const { freePort } = require('./net.js');

// Standard Webhooks verification, as a receiver does it: which of the secrets signed this request.
function signedBy(secrets, req) {
  const given = (req.signature || '').split(' ');
  return secrets.filter((secret) => {
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    const want = Buffer.from('v1,' + crypto.createHmac('sha256', key)
      .update(`${req.id}.${req.timestamp}.${req.body}`).digest('base64'));
    return given.some((g) => g.length === want.length && crypto.timingSafeEqual(Buffer.from(g), want));
  });
}

// A body as JSON; {} for one that is not (what a followed redirect would bring).
function parsed(body) {
  try { return JSON.parse(body); } catch (e) { return {}; }
}

// An HTTP receiver on 127.0.0.1 that keeps every request and answers as told.
class Receiver {
  constructor() {
    this.got = [];
    this.mode = 'ok'; // ok | 500 | 410 | retry-after | redirect | timeout | hold
    this.sockets = new Set();
    this.secrets = [];
    this.badSignatures = 0;
  }

  async start(port) {
    this.port = port || await freePort();
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', resolve);
    });
  }

  stop() {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  url() { return `http://127.0.0.1:${this.port}/hook`; }

  handle(req, res) {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const r = {
        id: req.headers['webhook-id'], timestamp: req.headers['webhook-timestamp'],
        signature: req.headers['webhook-signature'], body, at: Date.now(), event: parsed(body),
        path: req.url,
      };
      r.signers = signedBy(this.secrets, r);
      if (!r.signers.length || r.id !== r.event.id ||
          Math.abs(Number(r.timestamp) - Date.now() / 1000) > 300) this.badSignatures++;
      this.got.push(r);
      switch (this.mode) {
      case '500': res.writeHead(500); res.end(); break;
      case '410': res.writeHead(410); res.end(); break;
      case 'retry-after': res.writeHead(503, { 'Retry-After': '2' }); res.end(); break;
      case 'redirect': res.writeHead(302, { Location: '/followed' }); res.end(); break;
      case 'timeout': break; // never answers
      case 'hold': setTimeout(() => { res.writeHead(200); res.end('ok'); }, 600); break;
      default: res.writeHead(200); res.end('ok');
      }
    });
  }

  ids() { return this.got.map((r) => r.id); }
}

module.exports = { Receiver, signedBy };
