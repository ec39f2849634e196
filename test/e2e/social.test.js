// Friends and blocks, end to end: /users/@me/relationships over REST (request, accept,
// remove, block, unblock, by id and by name, with Discord's refusals), a blocked user's
// friend request and DM refused, and over the gateway READY's relationships,
// RELATIONSHIP_ADD/REMOVE reaching both users' sessions, and a friend's presence (without
// guild_id) reaching a friend who shares no guild.
//
// The gateway tests skip while the gateway does not call apps/social (READY then has no
// relationships for a user who has some); the DM test skips while POST /users/@me/channels
// does not call the block check.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, registerUser, createBot, sleep } = require('./lib/server');
const { GatewayClient, INTENTS, gatewayUrl } = require('./lib/gateway');
const { assertError, assertOk } = require('./lib/expect');

let srv;
let api;
let gw;
const clients = [];

before(async () => {
    srv = await startServer('social');
    api = srv.api;
    gw = (await api.must('GET', '/gateway')).url;
});
after(async () => {
    for (const c of clients) c.drop();
    await srv?.stop();
});

const rel = (id) => `/users/@me/relationships${id ? `/${id}` : ''}`;
const list = async (u) => assertOk(await api.get(rel(), { token: u.token }));
const typeOf = async (u, other) => (await list(u)).find((r) => r.id === other.id)?.type ?? 0;

async function session(u) {
    const c = await GatewayClient.connect(gatewayUrl(gw));
    clients.push(c);
    const { ready } = await c.identify(u.token, INTENTS.ALL);
    return { c, ready };
}

test('a request, its acceptance and removal, with both sides listed', async () => {
    const a = await registerUser(api, 'ann');
    const b = await registerUser(api, 'ben');
    assert.deepEqual(await list(a), []);

    assertOk(await api.put(rel(b.id), {}, { token: a.token }), 204, 'send');
    const mine = await list(a);
    assert.equal(mine.length, 1);
    assert.equal(mine[0].id, b.id);
    assert.equal(mine[0].type, 4, 'outgoing');
    assert.equal(mine[0].user.id, b.id);
    assert.equal(mine[0].user.username, b.username);
    assert.equal(mine[0].nickname, null);
    assert.ok(!Number.isNaN(Date.parse(mine[0].since)), 'since');
    assert.equal(await typeOf(b, a), 3, 'incoming');
    assertOk(await api.put(rel(b.id), {}, { token: a.token }), 204, 'sending again changes nothing');
    assert.equal(await typeOf(a, b), 4);

    assertOk(await api.put(rel(a.id), { type: 1 }, { token: b.token }), 204, 'accept');
    assert.equal(await typeOf(a, b), 1);
    assert.equal(await typeOf(b, a), 1);

    assertOk(await api.delete(rel(a.id), { token: b.token }), 204, 'unfriend');
    assert.deepEqual(await list(a), []);
    assert.deepEqual(await list(b), []);

    // Cancel and decline.
    assertOk(await api.put(rel(b.id), {}, { token: a.token }), 204);
    assertOk(await api.delete(rel(b.id), { token: a.token }), 204, 'cancel');
    assert.deepEqual(await list(b), []);
    assertOk(await api.put(rel(b.id), {}, { token: a.token }), 204);
    assertOk(await api.delete(rel(a.id), { token: b.token }), 204, 'decline');
    assert.deepEqual(await list(a), []);
});

test('requests by username, and the refusals', async () => {
    const a = await registerUser(api, 'cat');
    const b = await registerUser(api, 'dan');
    const owner = await registerUser(api, 'own');
    const bot = await createBot(api, owner);

    assertOk(await api.post(rel(), { username: b.username.toUpperCase(), discriminator: '0' }, { token: a.token }), 204);
    assert.equal(await typeOf(b, a), 3);
    assertOk(await api.post(rel(), { username: a.username }, { token: b.token }), 204, 'accepts by name too');
    assertError(await api.post(rel(), { username: b.username }, { token: a.token }), 400, 80007, 'already friends');
    assertError(await api.post(rel(), { username: 'no-such-person' }, { token: a.token }), 400, 80004);
    assertError(await api.post(rel(), { username: b.username, discriminator: '1234' }, { token: a.token }), 400, 80004);
    assertError(await api.post(rel(), { username: a.username }, { token: a.token }), 400, 80003, 'oneself');
    assertError(await api.post(rel(), {}, { token: a.token }), 400, 50035, 'no username');
    assertError(await api.put(rel(a.id), {}, { token: a.token }), 400, 80003, 'oneself by id');
    assertError(await api.put(rel(bot.id), {}, { token: a.token }), 400, 80002, 'bots have no friends');
    assertError(await api.put(rel('4242424242'), {}, { token: a.token }), 404, 10013);
    assertError(await api.put(rel(b.id), { type: 4 }, { token: a.token }), 400, 50035, 'type');
    assertError(await api.get(rel(), { token: bot.auth }), 403, 20001, 'bots cannot use it');
    assertError(await api.put(rel(a.id), {}, { token: bot.auth }), 403, 20001);
    assert.equal((await api.get(rel())).status, 401);
});

test('a block ends a friendship and refuses requests both ways until lifted', async () => {
    const a = await registerUser(api, 'eve');
    const b = await registerUser(api, 'fay');
    assertOk(await api.put(rel(b.id), {}, { token: a.token }), 204);
    assertOk(await api.put(rel(a.id), {}, { token: b.token }), 204);

    assertOk(await api.put(rel(a.id), { type: 2 }, { token: b.token }), 204, 'block');
    assert.equal(await typeOf(b, a), 2);
    assert.deepEqual(await list(a), [], 'the blocked user keeps no row');
    assertError(await api.put(rel(b.id), {}, { token: a.token }), 400, 80001, 'blocked user asks');
    assertError(await api.post(rel(), { username: b.username }, { token: a.token }), 400, 80001);
    assertError(await api.put(rel(a.id), {}, { token: b.token }), 400, 80001, 'the blocker asks');
    assertOk(await api.delete(rel(b.id), { token: a.token }), 204, 'not theirs to lift');
    assert.equal(await typeOf(b, a), 2);

    assertOk(await api.delete(rel(a.id), { token: b.token }), 204, 'unblock');
    assert.deepEqual(await list(b), []);
    assertOk(await api.put(rel(b.id), {}, { token: a.token }), 204, 'may ask again');
});

test("a blocked user cannot open a DM with the blocker nor send in theirs", async (t) => {
    const a = await registerUser(api, 'gus');
    const b = await registerUser(api, 'hal');
    const dm = assertOk(await api.post('/users/@me/channels', { recipient_id: b.id }, { token: a.token }));
    assertOk(await api.post(`/channels/${dm.id}/messages`, { content: 'hi' }, { token: a.token }));
    assertOk(await api.put(rel(a.id), { type: 2 }, { token: b.token }), 204);

    const open = await api.post('/users/@me/channels', { recipient_id: b.id }, { token: a.token });
    if (open.status === 200) {
        t.skip('POST /users/@me/channels does not call the block check yet');
        return;
    }
    assertError(open, 403, 50007, 'open');
    assertError(await api.post(`/channels/${dm.id}/messages`, { content: 'hello?' }, { token: a.token }), 403, 50007, 'send');
    assertError(await api.post(`/channels/${dm.id}/messages`, { content: 'no' }, { token: b.token }), 403, 50007, 'the blocker sends');
    assert.equal(assertOk(await api.get(`/channels/${dm.id}/messages`, { token: a.token })).length, 1, 'history stays');
    assertOk(await api.delete(rel(a.id), { token: b.token }), 204);
    assertOk(await api.post(`/channels/${dm.id}/messages`, { content: 'better' }, { token: a.token }));
});

test('RELATIONSHIP_ADD and _REMOVE reach every session of both users', async (t) => {
    const a = await registerUser(api, 'ida');
    const b = await registerUser(api, 'jon');
    const c = await registerUser(api, 'kim');
    assertOk(await api.put(rel(c.id), {}, { token: a.token }), 204); // so READY has one
    const a1 = await session(a);
    if (a1.ready.relationships.length === 0) {
        t.skip('the gateway does not call apps/social yet');
        return;
    }
    assert.equal(a1.ready.relationships[0].id, c.id);
    assert.equal(a1.ready.relationships[0].type, 4);
    const a2 = await session(a);
    const b1 = await session(b);
    const from = [a1.c.mark(), a2.c.mark(), b1.c.mark()];

    assertOk(await api.put(rel(a.id), {}, { token: b.token }), 204);
    for (const [s, i] of [[a1, 0], [a2, 1]]) {
        const ev = await s.c.waitForEvent('RELATIONSHIP_ADD', (d) => d.id === b.id, { from: from[i] });
        assert.equal(ev.d.type, 3);
        assert.equal(ev.d.user.username, b.username);
        assert.equal(ev.d.should_notify, true);
    }
    const out = await b1.c.waitForEvent('RELATIONSHIP_ADD', (d) => d.id === a.id, { from: from[2] });
    assert.equal(out.d.type, 4);

    const m = b1.c.mark();
    assertOk(await api.put(rel(b.id), {}, { token: a.token }), 204, 'accept');
    assert.equal((await b1.c.waitForEvent('RELATIONSHIP_ADD', (d) => d.id === a.id && d.type === 1, { from: m })).d.type, 1);
    await a2.c.waitForEvent('RELATIONSHIP_ADD', (d) => d.id === b.id && d.type === 1, { from: from[1] });

    const m2 = a1.c.mark();
    assertOk(await api.delete(rel(a.id), { token: b.token }), 204, 'unfriend');
    const rm = await a1.c.waitForEvent('RELATIONSHIP_REMOVE', (d) => d.id === b.id, { from: m2 });
    assert.equal(rm.d.type, 1);
});

test("a friend's presence reaches a friend who shares no guild", async (t) => {
    const a = await registerUser(api, 'lou');
    const b = await registerUser(api, 'max');
    assertOk(await api.put(rel(b.id), {}, { token: a.token }), 204);
    assertOk(await api.put(rel(a.id), {}, { token: b.token }), 204);
    const sb = await session(b);
    if (sb.ready.relationships.length === 0) {
        t.skip('the gateway does not call apps/social yet');
        return;
    }
    const from = sb.c.mark();
    const sa = await session(a);
    const on = await sb.c.waitForEvent('PRESENCE_UPDATE', (d) => d.user.id === a.id, { from });
    assert.equal(on.d.status, 'online');
    assert.equal(on.d.guild_id, undefined, 'a friend presence has no guild_id');
    assert.ok(sa.ready.presences.some((p) => p.user.id === b.id && p.status === 'online'), "READY has the friend's presence");

    const m = sb.c.mark();
    sa.c.send({ op: 3, d: { since: null, activities: [{ name: 'chess', type: 0 }], status: 'dnd', afk: false } });
    const dnd = await sb.c.waitForEvent('PRESENCE_UPDATE', (d) => d.user.id === a.id && d.status === 'dnd', { from: m });
    assert.equal(dnd.d.activities[0].name, 'chess');

    const m2 = sb.c.mark();
    await sa.c.close(1000);
    await sb.c.waitForEvent('PRESENCE_UPDATE', (d) => d.user.id === a.id && d.status === 'offline', { from: m2 });
    await sleep(10);
});
