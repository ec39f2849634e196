// Gateway, wire forms: compress=zlib-stream (one zlib context for the connection, every
// message a binary frame ending in the 00 00 FF FF sync flush, inflated here with node's
// zlib), encoding=etf (Erlang's external term format, snowflakes as 64-bit integers),
// both together; and frames the server must refuse without falling over (oversize,
// unknown encoding).
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const WebSocket = require('ws');
const { startServer, postMessage } = require('./lib/server');
const { GatewayClient, OP, INTENTS, gatewayUrl } = require('./lib/gateway');
const { makeWorld } = require('./lib/expect');

let srv;
let api;
let w;
let gw;
const clients = [];

async function connect(query, opts) {
    const c = await GatewayClient.connect(gatewayUrl(gw, query), opts);
    clients.push(c);
    return c;
}

before(async () => {
    srv = await startServer('gateway-wire');
    api = srv.api;
    w = await makeWorld(api, { bot: true });
    gw = (await api.must('GET', '/gateway')).url;
});
after(async () => {
    for (const c of clients) c.ws.terminate();
    await srv?.stop();
});

// Runs the same session through a wire form: HELLO, IDENTIFY, READY, GUILD_CREATE, a
// heartbeat ACK and a MESSAGE_CREATE with content and string-comparable ids.
async function exercise(c) {
    const { ready, guilds } = await c.identify(w.member.token, INTENTS.ALL);
    assert.equal(String(ready.user.id), w.member.id);
    assert.equal(String(guilds[0].id), w.guildId);
    const from = c.mark();
    c.send({ op: OP.HEARTBEAT, d: c.seq });
    await c.waitFor((p) => p.op === OP.HEARTBEAT_ACK, { from, what: 'HEARTBEAT_ACK' });
    const text = 'wire ✓ '.repeat(50);
    const m = await postMessage(api, w.owner, w.text.id, text);
    const p = await c.waitForEvent('MESSAGE_CREATE', (d) => String(d.id) === m.id, { from });
    assert.equal(p.d.content, text);
    assert.equal(String(p.d.channel_id), w.text.id);
    assert.equal(String(p.d.author.id), w.owner.id);
    return { ready, guilds };
}

test('compress=zlib-stream: every message is a binary zlib frame of one stream', async () => {
    const c = await connect({ compress: 'zlib-stream' }, { compress: 'zlib-stream' });
    await exercise(c);
    assert.equal(c.decodeErrors.length, 0, `inflate/parse errors: ${c.decodeErrors}`);
    assert.ok(c.rawFrames.every((f) => f.binary), 'all frames binary');
    assert.ok(c.rawFrames.length >= 4);
    // One context for the connection: the zlib header starts the first frame only. (A
    // server compressing each message on its own would start every frame with one.)
    const isHeader = (h) => h.length === 2 && (h[0] & 0x0f) === 8 && ((h[0] << 8) | h[1]) % 31 === 0;
    assert.ok(isHeader(c.rawFrames[0].head), 'the first frame opens a zlib stream');
    assert.ok(c.rawFrames.slice(1).some((f) => !isHeader(f.head)), 'later frames continue the same stream');
});

test('encoding=etf: HELLO, READY and events decode as ETF, with snowflakes as integers', async () => {
    const c = await connect({ encoding: 'etf' }, { encoding: 'etf' });
    assert.equal(typeof c.hello.heartbeat_interval, 'number');
    const { ready } = await exercise(c);
    assert.ok(c.rawFrames.every((f) => f.binary), 'ETF comes in binary frames');
    assert.equal(typeof ready.session_id, 'string');
    // Discord: "Snowflake IDs are transmitted as 64-bit integers over ETF"; the decoder
    // gives big integers as decimal strings, small ones as numbers.
    assert.equal(String(ready.user.id), w.member.id);
});

test('encoding=etf with compress=zlib-stream', async () => {
    const c = await connect({ encoding: 'etf', compress: 'zlib-stream' }, { encoding: 'etf', compress: 'zlib-stream' });
    await exercise(c);
    assert.equal(c.decodeErrors.length, 0, `errors: ${c.decodeErrors}`);
});

test('an unknown encoding is refused, not served as JSON', async () => {
    const ws = new WebSocket(gatewayUrl(gw, { encoding: 'xml' }));
    const outcome = await new Promise((resolve) => {
        ws.on('unexpected-response', (req, res) => resolve({ http: res.statusCode }));
        ws.on('close', (code) => resolve({ code }));
        setTimeout(() => resolve({ open: 'still open after 5 s' }), 5000).unref();
        ws.on('error', () => {});
        ws.on('message', () => {});
    });
    ws.terminate();
    assert.ok(outcome.http >= 400 || (outcome.code >= 4000 && outcome.code <= 4014),
        `refused: ${JSON.stringify(outcome)}`);
});

test('an oversize frame closes the connection; the server stays up', async () => {
    const c = await connect();
    await c.identify(w.member.token, INTENTS.GUILDS);
    c.sendRaw(JSON.stringify({ op: OP.PRESENCE_UPDATE, d: { status: 'online', since: null, afk: false, activities: [{ name: 'x'.repeat(2 << 20), type: 0 }] } }));
    const closed = await c.waitClose(10000);
    assert.ok([1009, 4002].includes(closed.code), `message too big (1009) or decode error (4002): ${closed.code}`);
    const d = await connect();
    const { ready } = await d.identify(w.member.token, INTENTS.GUILDS);
    assert.equal(ready.user.id, w.member.id);
    d.ws.terminate();
});

test('a binary frame on a JSON connection is a decode error', async () => {
    const c = await connect();
    c.sendRaw(Buffer.from([0x83, 0x74, 0, 0, 0, 0]), { binary: true });
    const closed = await c.waitClose();
    assert.ok([4002, 1003].includes(closed.code), `decode error: ${closed.code}`);
});
