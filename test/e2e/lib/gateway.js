// A raw Discord gateway client for the tests, on the `ws` package: connects, records
// every payload it receives (decoding zlib-stream and ETF when asked), heartbeats on
// HELLO's interval, and lets a test wait for a payload, an event or the close code.
//
// Wire forms: encoding=json (text frames) or etf (binary frames, lib/etf.js), either
// optionally under compress=zlib-stream (one zlib context for the whole connection,
// each message ending in the 00 00 FF FF sync flush marker), inflated with node's zlib.
'use strict';

const zlib = require('node:zlib');
const WebSocket = require('ws');
const etf = require('./etf');

const OP = {
    DISPATCH: 0, HEARTBEAT: 1, IDENTIFY: 2, PRESENCE_UPDATE: 3, VOICE_STATE_UPDATE: 4,
    RESUME: 6, RECONNECT: 7, REQUEST_GUILD_MEMBERS: 8, INVALID_SESSION: 9, HELLO: 10,
    HEARTBEAT_ACK: 11,
};

const INTENTS = {
    GUILDS: 1 << 0,
    GUILD_MEMBERS: 1 << 1,
    GUILD_MODERATION: 1 << 2,
    GUILD_EXPRESSIONS: 1 << 3,
    GUILD_INVITES: 1 << 6,
    GUILD_PRESENCES: 1 << 8,
    GUILD_MESSAGES: 1 << 9,
    GUILD_MESSAGE_REACTIONS: 1 << 10,
    GUILD_MESSAGE_TYPING: 1 << 11,
    DIRECT_MESSAGES: 1 << 12,
    DIRECT_MESSAGE_REACTIONS: 1 << 13,
    DIRECT_MESSAGE_TYPING: 1 << 14,
    MESSAGE_CONTENT: 1 << 15,
};
// Everything a chat client cares about here.
INTENTS.ALL = Object.values(INTENTS).reduce((a, b) => a | b, 0);

const DEFAULT_TIMEOUT = 5000;

// The gateway URL to connect to: url as /gateway gave it (ws://host:port/gateway),
// with the query Discord's libraries add.
function gatewayUrl(url, { v = 10, encoding = 'json', compress, slash = false } = {}) {
    const q = new URLSearchParams({ v: String(v), encoding });
    if (compress) q.set('compress', compress);
    return `${url.replace(/\/+$/, '')}${slash ? '/' : ''}?${q}`;
}

class GatewayClient {
    // Opens a connection to url (a full ws:// URL with its query); encoding and
    // compress must match what the query asks for.
    // autoHeartbeat: heartbeat on HELLO's interval; answerRequests: answer the server's
    // heartbeat requests (op 1) at once, as Discord's clients do.
    constructor(url, { encoding = 'json', compress = null, autoHeartbeat = true, answerRequests = true } = {}) {
        this.url = url;
        this.encoding = encoding;
        this.compress = compress;
        this.autoHeartbeat = autoHeartbeat;
        this.answerRequests = answerRequests;
        this.received = []; // every decoded payload, in order
        this.rawFrames = []; // {binary, length, head: the first 2 bytes} per frame
        this.closed = null; // {code, reason} once closed
        this.hello = null;
        this.seq = null; // the last dispatch's s
        this.sessionId = null;
        this.resumeUrl = null;
        this.heartbeatTimer = null;
        this.waiters = [];
        this.decodeErrors = [];
        this._queue = Promise.resolve();
        if (compress === 'zlib-stream') {
            this.inflate = zlib.createInflate();
            this._inflated = [];
            this.inflate.on('data', (d) => this._inflated.push(d));
        }
        this.ws = new WebSocket(url, { perMessageDeflate: false });
        this.ws.binaryType = 'nodebuffer';
        this.opened = new Promise((resolve, reject) => {
            this.ws.once('open', resolve);
            this.ws.once('error', reject);
            this.ws.once('unexpected-response', (req, res) =>
                reject(new Error(`gateway upgrade refused: HTTP ${res.statusCode}`)));
        });
        this.opened.catch(() => {});
        this.ws.on('error', () => {});
        this.ws.on('message', (data, isBinary) => {
            this.rawFrames.push({ binary: isBinary, length: data.length, head: Buffer.from(data.subarray(0, 2)) });
            this._queue = this._queue.then(() => this._onFrame(data, isBinary)).catch((err) => {
                this.decodeErrors.push(err);
            });
        });
        this.ws.on('close', (code, reason) => {
            // Let frames still being inflated land before the close is seen.
            this._queue.then(() => {
                this._stopHeartbeat();
                this.closed = { code, reason: reason.toString() };
                this._notify();
            });
        });
    }

    // Connects and waits for HELLO; resolves the client.
    static async connect(url, opts = {}) {
        const c = new GatewayClient(url, opts);
        await c.opened;
        await c.waitFor((p) => p.op === OP.HELLO, { timeout: opts.helloTimeout || DEFAULT_TIMEOUT, what: 'HELLO' });
        return c;
    }

    async _onFrame(data, isBinary) {
        let bytes = data;
        if (this.inflate) {
            if (!isBinary) throw new Error('a text frame on a zlib-stream connection');
            const n = bytes.length;
            this.inflate.write(bytes);
            const flushed = n >= 4 && bytes[n - 4] === 0 && bytes[n - 3] === 0 && bytes[n - 2] === 0xff && bytes[n - 1] === 0xff;
            if (!flushed) return;
            await new Promise((resolve, reject) => {
                this.inflate.flush(zlib.constants.Z_SYNC_FLUSH, (err) => (err ? reject(err) : resolve()));
            });
            await new Promise((resolve) => setImmediate(resolve));
            bytes = Buffer.concat(this._inflated);
            this._inflated = [];
        }
        let payload;
        if (this.encoding === 'etf') {
            payload = etf.decode(bytes);
        } else {
            payload = JSON.parse(Buffer.isBuffer(bytes) ? bytes.toString('utf8') : String(bytes));
        }
        this._onPayload(payload);
    }

    _onPayload(p) {
        this.received.push(p);
        if (p.op === OP.HELLO) {
            this.hello = p.d;
            if (this.autoHeartbeat) this._startHeartbeat(p.d.heartbeat_interval);
        } else if (p.op === OP.HEARTBEAT && this.answerRequests) {
            this.send({ op: OP.HEARTBEAT, d: this.seq });
        } else if (p.op === OP.DISPATCH) {
            if (p.s != null) this.seq = p.s;
            if (p.t === 'READY') {
                this.sessionId = p.d.session_id;
                this.resumeUrl = p.d.resume_gateway_url;
            }
        }
        this._notify();
    }

    _startHeartbeat(interval) {
        this._stopHeartbeat();
        this.heartbeatTimer = setInterval(() => {
            if (this.ws.readyState === WebSocket.OPEN) this.send({ op: OP.HEARTBEAT, d: this.seq });
        }, Math.max(50, interval * 0.9));
        this.heartbeatTimer.unref();
    }

    _stopHeartbeat() {
        if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
        this.heartbeatTimer = null;
    }

    _notify() {
        for (const w of [...this.waiters]) w();
    }

    // Sends a payload in this connection's encoding.
    send(payload) {
        if (this.ws.readyState !== WebSocket.OPEN) return;
        if (this.encoding === 'etf') this.ws.send(etf.encode(payload), { binary: true });
        else this.ws.send(JSON.stringify(payload));
    }

    // Sends text (or bytes) as they are.
    sendRaw(data, opts = {}) {
        this.ws.send(data, opts);
    }

    // The number of payloads received so far: pass as `from` to wait for later ones.
    mark() {
        return this.received.length;
    }

    // Resolves the first payload at index >= from that matches pred; rejects after timeout
    // ms, or when the connection closes first.
    waitFor(pred, { from = 0, timeout = DEFAULT_TIMEOUT, what = 'a payload' } = {}) {
        return new Promise((resolve, reject) => {
            let i = from;
            const check = () => {
                for (; i < this.received.length; i++) {
                    if (pred(this.received[i])) {
                        done();
                        resolve(this.received[i]);
                        return;
                    }
                }
                if (this.closed) {
                    done();
                    reject(new Error(`gateway closed (${this.closed.code} ${this.closed.reason}) while waiting for ${what}; ` +
                        `got: ${this.summary(from)}`));
                }
            };
            const timer = setTimeout(() => {
                done();
                reject(new Error(`no ${what} within ${timeout} ms; got: ${this.summary(from)}`));
            }, timeout);
            const done = () => {
                clearTimeout(timer);
                this.waiters = this.waiters.filter((w) => w !== check);
            };
            this.waiters.push(check);
            check();
        });
    }

    // Waits for a dispatch of type t (and matching pred); resolves its payload.
    waitForEvent(t, pred = () => true, opts = {}) {
        return this.waitFor((p) => p.op === OP.DISPATCH && p.t === t && pred(p.d), { what: t, ...opts });
    }

    // The dispatches of type t received at index >= from.
    events(t, from = 0) {
        return this.received.slice(from).filter((p) => p.op === OP.DISPATCH && (t == null || p.t === t));
    }

    // Resolves {code, reason} once the server closed the connection; rejects after timeout.
    waitClose(timeout = DEFAULT_TIMEOUT) {
        return new Promise((resolve, reject) => {
            const check = () => {
                if (this.closed) {
                    done();
                    resolve(this.closed);
                }
            };
            const timer = setTimeout(() => {
                done();
                reject(new Error(`the gateway did not close within ${timeout} ms; got: ${this.summary()}`));
            }, timeout);
            const done = () => {
                clearTimeout(timer);
                this.waiters = this.waiters.filter((w) => w !== check);
            };
            this.waiters.push(check);
            check();
        });
    }

    // Sends IDENTIFY and waits for READY, then for a GUILD_CREATE for each guild READY
    // listed (when the GUILDS intent is on). Resolves {ready, guilds: [GUILD_CREATE d]}.
    // A bot's IDENTIFY may meet the identify limit (one per 5 s, as on Discord): the
    // server answers INVALID_SESSION (d: false), and like Discord's libraries this waits
    // and identifies again on the same connection (identifyRetries counts it).
    async identify(token, intents = INTENTS.ALL, extra = {}) {
        const payload = {
            op: OP.IDENTIFY,
            d: { token, intents, properties: { os: 'linux', browser: 'hearth-e2e', device: 'hearth-e2e' }, ...extra },
        };
        const from = this.mark();
        const deadline = Date.now() + 30000;
        let ready;
        for (let at = from; ;) {
            this.send(payload);
            const p = await this.waitFor((x) => (x.op === OP.DISPATCH && x.t === 'READY') || x.op === OP.INVALID_SESSION,
                { from: at, what: 'READY' });
            if (p.op === OP.DISPATCH) {
                ready = p;
                break;
            }
            if (Date.now() > deadline) throw new Error(`IDENTIFY refused with INVALID_SESSION for 30 s: ${this.summary(from)}`);
            this.identifyRetries = (this.identifyRetries || 0) + 1;
            at = this.mark();
            await new Promise((r) => setTimeout(r, 1000 + Math.random() * 1000));
        }
        const guilds = [];
        if (intents & INTENTS.GUILDS) {
            for (const g of ready.d.guilds) {
                const gc = await this.waitForEvent('GUILD_CREATE', (d) => d.id === g.id, { from });
                guilds.push(gc.d);
            }
        }
        return { ready: ready.d, guilds };
    }

    // Sends RESUME for session/seq (default: this connection's own).
    resume(token, sessionId = this.sessionId, seq = this.seq) {
        this.send({ op: OP.RESUME, d: { token, session_id: sessionId, seq } });
    }

    // Drops the TCP connection with no close frame, as a network failure would.
    drop() {
        this._stopHeartbeat();
        if (this.ws._socket) this.ws._socket.destroy();
        else this.ws.terminate();
    }

    // Closes with a close frame (code 1000 by default) and waits for the close.
    async close(code = 1000) {
        this._stopHeartbeat();
        if (this.closed) return this.closed;
        if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
            try {
                this.ws.close(code);
            } catch {
                this.ws.terminate();
            }
        }
        try {
            return await this.waitClose(3000);
        } catch {
            this.ws.terminate();
            return this.closed;
        }
    }

    // A short description of what was received from index from, for failure messages.
    summary(from = 0) {
        const items = this.received.slice(from).map((p) => (p.op === OP.DISPATCH ? `${p.t}#${p.s}` : `op${p.op}`));
        const tail = items.length > 30 ? ['...', ...items.slice(-30)] : items;
        return `[${tail.join(', ')}]${this.closed ? ` closed ${this.closed.code}` : ''}` +
            (this.decodeErrors.length ? ` decode errors: ${this.decodeErrors.map(String).join('; ')}` : '');
    }
}

module.exports = { GatewayClient, OP, INTENTS, gatewayUrl };
