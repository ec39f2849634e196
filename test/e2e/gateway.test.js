// Gateway, the protocol itself: HELLO, heartbeats and their ACKs, IDENTIFY -> READY ->
// GUILD_CREATE with what Discord puts in them, sequence numbers, several sessions per
// token, and the close codes a client gets for its mistakes (4001 unknown opcode, 4002
// decode error, 4003 not authenticated, 4004 authentication failed, 4005 already
// authenticated, 4008 rate limited, 4010 invalid shard, 4012 invalid API version, 4013
// invalid intents).
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, postMessage, sleep } = require('./lib/server');
const { GatewayClient, OP, INTENTS, gatewayUrl } = require('./lib/gateway');
const { assertSnowflake, makeWorld } = require('./lib/expect');

let srv;
let api;
let w;
let gw; // the URL /gateway gives
const clients = [];

async function connect(opts = {}, query = {}) {
    const c = await GatewayClient.connect(gatewayUrl(gw, query), opts);
    clients.push(c);
    return c;
}

before(async () => {
    srv = await startServer('gateway');
    api = srv.api;
    w = await makeWorld(api, { bot: true });
    gw = (await api.must('GET', '/gateway')).url;
});
after(async () => {
    for (const c of clients) c.ws.terminate();
    await srv?.stop();
});

test('HELLO comes first, with heartbeat_interval, at the URL /gateway gives, /gateway and /gateway/', async () => {
    const origin = srv.base.replace(/^http/, 'ws');
    const urls = [gatewayUrl(gw), `${origin}/gateway?v=10&encoding=json`, `${origin}/gateway/?v=10&encoding=json`];
    for (const url of urls) {
        const c = new GatewayClient(url, { autoHeartbeat: false });
        clients.push(c);
        await c.opened;
        const hello = await c.waitFor((p) => p.op === OP.HELLO, { what: `HELLO at ${url}` });
        assert.equal(c.received[0], hello, 'HELLO is the first payload');
        assert.equal(typeof hello.d.heartbeat_interval, 'number');
        assert.ok(hello.d.heartbeat_interval >= 1000 && hello.d.heartbeat_interval <= 120000,
            `a sane heartbeat_interval: ${hello.d.heartbeat_interval}`);
        assert.equal(hello.s ?? null, null);
        assert.equal(hello.t ?? null, null);
        c.ws.terminate();
    }
});

test('a heartbeat gets an ACK, before and after IDENTIFY', async () => {
    const c = await connect({ autoHeartbeat: false });
    let from = c.mark();
    c.send({ op: OP.HEARTBEAT, d: null });
    await c.waitFor((p) => p.op === OP.HEARTBEAT_ACK, { from, what: 'HEARTBEAT_ACK before identify' });
    await c.identify(w.member.token, INTENTS.GUILDS);
    from = c.mark();
    c.send({ op: OP.HEARTBEAT, d: c.seq });
    await c.waitFor((p) => p.op === OP.HEARTBEAT_ACK, { from, what: 'HEARTBEAT_ACK after identify' });
    c.ws.terminate();
});

test('IDENTIFY as a bot: READY has v, user, guilds, session_id, resume_gateway_url, application', async () => {
    const c = await connect();
    const { ready } = await c.identify(w.bot.token, INTENTS.GUILDS);
    const p = c.events('READY')[0];
    assert.equal(p.s, 1, 'READY is the first dispatch: s = 1');
    assert.equal(ready.v, 10);
    assert.equal(ready.user.id, w.bot.id);
    assert.equal(ready.user.bot, true);
    assert.equal(ready.user.username, w.bot.user.username);
    assert.deepEqual(ready.guilds.map((g) => g.id), [w.guildId]);
    assert.equal(ready.guilds[0].unavailable, true, 'READY lists guilds as unavailable; GUILD_CREATE follows');
    assert.equal(typeof ready.session_id, 'string');
    assert.ok(ready.session_id.length >= 8);
    assert.match(ready.resume_gateway_url, /^wss?:\/\//);
    assert.equal(ready.application?.id, w.bot.appId);
    c.ws.terminate();
});

test('GUILD_CREATE follows READY with channels, roles, members and presences', async () => {
    const c = await connect();
    const { guilds } = await c.identify(w.member.token, INTENTS.GUILDS | INTENTS.GUILD_MEMBERS | INTENTS.GUILD_PRESENCES);
    const g = guilds[0];
    assert.equal(g.id, w.guildId);
    assert.equal(g.name, w.guild.name);
    assert.equal(g.owner_id, w.owner.id);
    assert.ok(g.unavailable === false || g.unavailable === undefined);
    assert.ok(g.channels.some((ch) => ch.id === w.text.id && ch.type === 0), 'its text channel');
    assert.ok(g.roles.some((r) => r.id === w.guildId && r.name === '@everyone'), '@everyone');
    const memberIds = g.members.map((m) => m.user.id);
    for (const id of [w.owner.id, w.member.id, w.bot.id]) assert.ok(memberIds.includes(id), `member ${id} listed`);
    assert.equal(g.member_count, 3);
    assert.ok(Array.isArray(g.presences), 'presences');
    assert.equal(typeof g.joined_at, 'string', 'joined_at: when this user joined');
    assertSnowflake(g.id, 'guild id');
    for (const ch of g.channels) assertSnowflake(ch.id, 'channel id');
    for (const m of g.members) assertSnowflake(m.user.id, 'member user id');
    c.ws.terminate();
});

test('dispatch sequence numbers count up by one', async () => {
    const c = await connect();
    await c.identify(w.member.token, INTENTS.ALL);
    for (let i = 0; i < 5; i++) await postMessage(api, w.owner, w.text.id, `seq ${i}`);
    await c.waitForEvent('MESSAGE_CREATE', (d) => d.content === 'seq 4');
    const seqs = c.events(null).map((p) => p.s);
    assert.deepEqual(seqs, seqs.map((_, i) => i + 1), `contiguous from 1: ${seqs}`);
    c.ws.terminate();
});

test('several sessions per token each get READY and every event', async () => {
    const a = await connect();
    const b = await connect();
    const ra = await a.identify(w.member.token, INTENTS.ALL);
    const rb = await b.identify(w.member.token, INTENTS.ALL);
    assert.notEqual(ra.ready.session_id, rb.ready.session_id, 'two sessions, two ids');
    assert.equal(ra.ready.user.id, w.member.id);
    assert.equal(rb.ready.user.id, w.member.id);
    const m = await postMessage(api, w.owner, w.text.id, 'to both sessions');
    await a.waitForEvent('MESSAGE_CREATE', (d) => d.id === m.id);
    await b.waitForEvent('MESSAGE_CREATE', (d) => d.id === m.id);
    a.ws.terminate();
    // The other session goes on.
    const m2 = await postMessage(api, w.owner, w.text.id, 'to the one left');
    await b.waitForEvent('MESSAGE_CREATE', (d) => d.id === m2.id);
    b.ws.terminate();
});

test('4001: an unknown opcode closes the connection', async () => {
    const c = await connect();
    await c.identify(w.member.token, INTENTS.GUILDS);
    c.send({ op: 99, d: null });
    assert.equal((await c.waitClose()).code, 4001);
});

test('4002: a payload that is not JSON closes with decode error', async () => {
    const c = await connect();
    c.sendRaw('{"op": 2, "d": {');
    assert.equal((await c.waitClose()).code, 4002);
});

test('4003: a payload before IDENTIFY closes with not authenticated', async () => {
    const c = await connect();
    c.send({ op: OP.PRESENCE_UPDATE, d: { since: null, activities: [], status: 'idle', afk: false } });
    assert.equal((await c.waitClose()).code, 4003);
});

test('4004: IDENTIFY with a wrong token closes with authentication failed', async () => {
    for (const token of ['not-a-token', `${w.bot.token}x`, '']) {
        const c = await connect();
        c.send({ op: OP.IDENTIFY, d: { token, intents: INTENTS.GUILDS, properties: { os: 'linux', browser: 'e2e', device: 'e2e' } } });
        assert.equal((await c.waitClose()).code, 4004, `token ${JSON.stringify(token)}`);
        assert.equal(c.events('READY').length, 0);
    }
});

test('4005: a second IDENTIFY on one connection closes with already authenticated', async () => {
    const c = await connect();
    await c.identify(w.member.token, INTENTS.GUILDS);
    c.send({ op: OP.IDENTIFY, d: { token: w.member.token, intents: INTENTS.GUILDS, properties: { os: 'linux', browser: 'e2e', device: 'e2e' } } });
    assert.equal((await c.waitClose()).code, 4005);
});

test('4012: an API version the server does not speak is refused', async () => {
    const c = new GatewayClient(gatewayUrl(gw, { v: 1 }));
    clients.push(c);
    try {
        await c.opened;
    } catch (err) {
        assert.fail(`the upgrade itself failed (${err.message}); Discord accepts it and closes with 4012`);
    }
    assert.equal((await c.waitClose()).code, 4012);
});

test('4013: intents with unknown bits close with invalid intents', async () => {
    const c = await connect();
    c.send({ op: OP.IDENTIFY, d: { token: w.bot.token, intents: 1 << 30, properties: { os: 'linux', browser: 'e2e', device: 'e2e' } } });
    assert.equal((await c.waitClose()).code, 4013);
});

test('4008: more than 120 payloads in a minute close with rate limited', async () => {
    const c = await connect({ autoHeartbeat: false });
    await c.identify(w.member.token, INTENTS.GUILDS);
    for (let i = 0; i < 130 && !c.closed; i++) c.send({ op: OP.HEARTBEAT, d: c.seq });
    assert.equal((await c.waitClose()).code, 4008);
});

test('4010: an invalid shard closes the connection', async () => {
    const c = await connect();
    c.send({ op: OP.IDENTIFY, d: { token: w.bot.token, intents: INTENTS.GUILDS, shard: [1, 1], properties: { os: 'linux', browser: 'e2e', device: 'e2e' } } });
    assert.equal((await c.waitClose()).code, 4010);
});

test('a bot\'s second IDENTIFY within 5 s gets INVALID_SESSION, and identifying after the wait works', async () => {
    // Discord: one identify per 5 s per max_concurrency bucket, else op 9 (d: false).
    // A server of its own with Discord's own limits.
    const own = await startServer('gateway-identify-limit', { rateLimitMultiplier: 1 });
    try {
        const ow = await makeWorld(own.api, { bot: true });
        const url = gatewayUrl((await own.api.must('GET', '/gateway')).url);
        const a = await GatewayClient.connect(url);
        clients.push(a);
        await a.identify(ow.bot.token, INTENTS.GUILDS);
        const t0 = Date.now();
        const b = await GatewayClient.connect(url);
        clients.push(b);
        b.send({ op: OP.IDENTIFY, d: { token: ow.bot.token, intents: INTENTS.GUILDS, properties: { os: 'linux', browser: 'e2e', device: 'e2e' } } });
        const p = await b.waitFor((x) => x.op === OP.INVALID_SESSION || (x.op === OP.DISPATCH && x.t === 'READY'), { what: 'INVALID_SESSION' });
        assert.equal(p.op, OP.INVALID_SESSION, 'the second identify within 5 s is refused');
        assert.equal(p.d, false);
        await sleep(Math.max(0, 5200 - (Date.now() - t0)));
        const from = b.mark();
        b.send({ op: OP.IDENTIFY, d: { token: ow.bot.token, intents: INTENTS.GUILDS, properties: { os: 'linux', browser: 'e2e', device: 'e2e' } } });
        const r = await b.waitForEvent('READY', () => true, { from });
        assert.equal(r.d.user.id, ow.bot.id);
        assert.notEqual(r.d.session_id, a.sessionId);
        a.ws.terminate();
        b.ws.terminate();
    } finally {
        await own.stop();
    }
});

test('the server stays up after all of that', async () => {
    const c = await connect();
    const { ready } = await c.identify(w.member.token, INTENTS.GUILDS);
    assert.equal(ready.user.id, w.member.id);
    c.ws.terminate();
});
