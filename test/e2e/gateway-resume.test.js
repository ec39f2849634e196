// Gateway, sessions across connections: RESUME (op 6) after a dropped connection replays
// every dispatch missed since seq, in order, then RESUMED, and live events go on;
// INVALID_SESSION (op 9, d: false) for a session that cannot be resumed (unknown id, a
// 1000 close, another user's token); 4007 for a sequence number never sent; and a
// session that stops heartbeating is closed.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, postMessage } = require('./lib/server');
const { GatewayClient, OP, INTENTS, gatewayUrl } = require('./lib/gateway');
const { makeWorld } = require('./lib/expect');

let srv;
let api;
let w;
let gw;
const clients = [];

async function connect(url = gw, opts = {}) {
    const c = await GatewayClient.connect(gatewayUrl(url), opts);
    clients.push(c);
    return c;
}

before(async () => {
    srv = await startServer('gateway-resume');
    api = srv.api;
    w = await makeWorld(api, { bot: true });
    gw = (await api.must('GET', '/gateway')).url;
});
after(async () => {
    for (const c of clients) c.ws.terminate();
    await srv?.stop();
});

// Waits until the server has noticed that c's socket is gone: a message posted now is
// one the session has to buffer.
async function dropAndSettle(c) {
    c.drop();
    await c.waitClose(3000).catch(() => {});
}

test('RESUME after a dropped connection replays the missed dispatches in order, then RESUMED', async () => {
    const a = await connect();
    const { ready } = await a.identify(w.owner.token, INTENTS.ALL);
    const seen = await postMessage(api, w.owner, w.text.id, 'seen live');
    await a.waitForEvent('MESSAGE_CREATE', (d) => d.id === seen.id);
    const seq = a.seq;
    await dropAndSettle(a);

    const missed = [];
    for (let i = 0; i < 5; i++) missed.push((await postMessage(api, w.member, w.text.id, `missed ${i}`)).id);
    await api.must('PUT', `/channels/${w.text.id}/messages/${missed[0]}/reactions/${encodeURIComponent('👍')}/@me`, { token: w.owner.token });

    const b = await connect(ready.resume_gateway_url);
    b.resume(w.owner.token, ready.session_id, seq);
    const resumed = await b.waitForEvent('RESUMED', () => true, { what: 'RESUMED' });
    const before = b.received.slice(0, b.received.indexOf(resumed)).filter((p) => p.op === OP.DISPATCH);
    assert.equal(b.events('READY').length, 0, 'a resume is not a new session: no READY');
    const creates = before.filter((p) => p.t === 'MESSAGE_CREATE').map((p) => p.d.id);
    assert.deepEqual(creates, missed, 'every missed MESSAGE_CREATE, in order, before RESUMED');
    assert.ok(before.some((p) => p.t === 'MESSAGE_REACTION_ADD' && p.d.message_id === missed[0]), 'the missed reaction too');
    assert.ok(!before.some((p) => p.d?.id === seen.id), 'nothing already seen is replayed');
    assert.deepEqual(before.map((p) => p.s), before.map((_, i) => seq + 1 + i), 'sequence numbers go on from seq');
    if (resumed.s != null) assert.equal(resumed.s, seq + before.length + 1, 'RESUMED takes the next s');

    // Live events go on, with the sequence going on.
    const last = b.seq;
    const live = await postMessage(api, w.member, w.text.id, 'after resume');
    const p = await b.waitForEvent('MESSAGE_CREATE', (d) => d.id === live.id);
    assert.equal(p.s, last + 1);
    b.ws.terminate();
});

test('RESUME with nothing missed gives RESUMED and no replay', async () => {
    const a = await connect();
    const { ready } = await a.identify(w.owner.token, INTENTS.GUILDS);
    const seq = a.seq;
    await dropAndSettle(a);
    const b = await connect(ready.resume_gateway_url);
    b.resume(w.owner.token, ready.session_id, seq);
    await b.waitForEvent('RESUMED');
    assert.deepEqual(b.events(null).map((p) => p.t), ['RESUMED']);
    b.ws.terminate();
});

test('RESUME of an unknown session gets INVALID_SESSION with d: false', async () => {
    const c = await connect();
    c.resume(w.owner.token, 'no-such-session-id', 3);
    const p = await c.waitFor((x) => x.op === OP.INVALID_SESSION, { what: 'INVALID_SESSION' });
    assert.equal(p.d, false);
    // The client may then identify afresh on the same connection, as discord.js does after a wait.
    c.ws.terminate();
});

test('a session closed with code 1000 cannot be resumed', async () => {
    const a = await connect();
    const { ready } = await a.identify(w.owner.token, INTENTS.GUILDS);
    const seq = a.seq;
    await a.close(1000);
    const b = await connect(ready.resume_gateway_url);
    b.resume(w.owner.token, ready.session_id, seq);
    const p = await b.waitFor((x) => x.op === OP.INVALID_SESSION || (x.op === OP.DISPATCH && x.t === 'RESUMED'), { what: 'INVALID_SESSION' });
    assert.equal(p.op, OP.INVALID_SESSION, 'Discord invalidates a session closed with 1000');
    assert.equal(p.d, false);
    b.ws.terminate();
});

test('another user\'s token cannot resume a session', async () => {
    const a = await connect();
    const { ready } = await a.identify(w.owner.token, INTENTS.ALL);
    const seq = a.seq;
    await dropAndSettle(a);
    const secret = await postMessage(api, w.owner, w.text.id, 'not for the thief');
    const b = await connect(ready.resume_gateway_url);
    b.resume(w.member.token, ready.session_id, seq);
    const p = await Promise.race([
        b.waitFor((x) => x.op === OP.INVALID_SESSION || (x.op === OP.DISPATCH && x.t === 'RESUMED'), { what: 'INVALID_SESSION' }),
        b.waitClose().then((cl) => ({ closed: cl })),
    ]);
    assert.ok(p.closed ? p.closed.code === 4004 : p.op === OP.INVALID_SESSION, `refused: ${JSON.stringify(p)}`);
    assert.ok(!b.events('MESSAGE_CREATE').some((x) => x.d.id === secret.id), 'no replay to the wrong user');
    b.ws.terminate();
});

test('RESUME with a sequence number the session never sent closes with 4007', async () => {
    const a = await connect();
    const { ready } = await a.identify(w.owner.token, INTENTS.GUILDS);
    const seq = a.seq;
    await dropAndSettle(a);
    const b = await connect(ready.resume_gateway_url);
    b.resume(w.owner.token, ready.session_id, seq + 100);
    const closed = await b.waitClose();
    assert.equal(closed.code, 4007);
    assert.equal(b.events('RESUMED').length, 0);
});

test('a session that stops heartbeating is closed', { timeout: 200000 }, async () => {
    // Silent: no heartbeats, not even answers to the server's heartbeat requests.
    const c = await connect(gw, { autoHeartbeat: false, answerRequests: false });
    const interval = c.hello.heartbeat_interval;
    await c.identify(w.owner.token, INTENTS.GUILDS);
    const t0 = Date.now();
    const closed = await c.waitClose(Math.ceil(interval * 2.5) + 5000);
    const ms = Date.now() - t0;
    assert.ok(ms >= interval * 0.9, `not closed before the interval ran out (${ms} ms < ${interval} ms)`);
    assert.ok(closed.code >= 4000 && closed.code <= 4014, `a gateway close code: ${closed.code}`);
});
