// Gateway, the dispatches a REST action causes and who gets them: MESSAGE_CREATE/
// UPDATE/DELETE/DELETE_BULK, MESSAGE_REACTION_ADD/REMOVE/REMOVE_ALL, TYPING_START,
// CHANNEL_CREATE/UPDATE/DELETE, GUILD_UPDATE/DELETE, GUILD_MEMBER_ADD/UPDATE/REMOVE,
// INVITE_CREATE/DELETE, PRESENCE_UPDATE (op 3, invisible, going offline) and DMs, each
// filtered by the session's intents (MESSAGE_CONTENT: content is empty without it, as on
// Discord, except for mentions, the bot's own messages and DMs).
//
// Absence is checked with a fence, not a sleep: after the action, the owner changes the
// channel's topic, which every session (GUILDS intent) receives as CHANNEL_UPDATE after
// anything the hub sent before; once it arrives, what did not come before it never will.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, postMessage, registerUser, createBot, createGuild, authorizeBot, sleep } = require('./lib/server');
const { GatewayClient, OP, INTENTS, gatewayUrl } = require('./lib/gateway');
const { assertSnowflake, makeWorld } = require('./lib/expect');

let srv;
let api;
let w;
let gw;
const S = {}; // sessions by name
const clients = [];
const enc = encodeURIComponent;

async function session(token, intents, extra) {
    const c = await GatewayClient.connect(gatewayUrl(gw));
    clients.push(c);
    await c.identify(token, intents, extra);
    return c;
}

let fenceN = 0;
// Waits until every session in list has seen a CHANNEL_UPDATE made after this call.
async function fence(list, channelId = w.text.id) {
    const topic = `fence ${++fenceN}`;
    await api.must('PATCH', `/channels/${channelId}`, { token: w.owner.token, body: { topic } });
    const idx = [];
    for (const c of list) {
        const p = await c.waitForEvent('CHANNEL_UPDATE', (d) => d.id === channelId && d.topic === topic, { what: `fence CHANNEL_UPDATE (${topic})` });
        idx.push(c.received.indexOf(p));
    }
    return idx;
}

// Asserts that no dispatch of type t matching pred reached c between from and the fence.
async function assertNone(c, t, pred, from, what) {
    const [end] = await fence([c]);
    const got = c.received.slice(from, end).filter((p) => p.op === OP.DISPATCH && p.t === t && pred(p.d));
    assert.deepEqual(got.map((p) => p.t), [], `${what}: got ${JSON.stringify(got.map((p) => p.d)).slice(0, 300)}`);
}

before(async () => {
    srv = await startServer('gateway-events');
    api = srv.api;
    w = await makeWorld(api, { bot: true });
    gw = (await api.must('GET', '/gateway')).url;
    S.owner = await session(w.owner.token, INTENTS.ALL);
    S.member = await session(w.member.token, INTENTS.ALL);
    S.bot = await session(w.bot.token, INTENTS.ALL);
    S.botNoContent = await session(w.bot.token, INTENTS.ALL & ~INTENTS.MESSAGE_CONTENT);
    S.botGuilds = await session(w.bot.token, INTENTS.GUILDS);
});
after(async () => {
    for (const c of clients) c.ws.terminate();
    await srv?.stop();
});

test('MESSAGE_CREATE reaches every member session, with content only where MESSAGE_CONTENT is on', async () => {
    const marks = Object.fromEntries(Object.entries(S).map(([k, c]) => [k, c.mark()]));
    const m = await postMessage(api, w.member, w.text.id, 'hello everyone');
    for (const k of ['owner', 'member', 'bot', 'botNoContent']) {
        const p = await S[k].waitForEvent('MESSAGE_CREATE', (d) => d.id === m.id, { from: marks[k], what: `MESSAGE_CREATE on ${k}` });
        assert.equal(p.d.channel_id, w.text.id);
        assert.equal(p.d.guild_id, w.guildId, `${k}: guild_id`);
        assert.equal(p.d.author.id, w.member.id);
        assert.equal(p.d.timestamp, m.timestamp);
        if (k === 'botNoContent') assert.equal(p.d.content, '', 'no MESSAGE_CONTENT intent: empty content');
        else assert.equal(p.d.content, 'hello everyone', `${k}: content`);
    }
    const p = S.owner.events('MESSAGE_CREATE', marks.owner).find((x) => x.d.id === m.id);
    if (p.d.member !== undefined) assert.ok(Array.isArray(p.d.member.roles), 'member partial has roles');
    await assertNone(S.botGuilds, 'MESSAGE_CREATE', (d) => d.id === m.id, marks.botGuilds, 'no GUILD_MESSAGES intent');
});

test('without MESSAGE_CONTENT a bot still reads messages that mention it and its own', async () => {
    const from = S.botNoContent.mark();
    const mention = await postMessage(api, w.member, w.text.id, `<@${w.bot.id}> ping`);
    const own = await postMessage(api, w.bot, w.text.id, 'bot speaking');
    const a = await S.botNoContent.waitForEvent('MESSAGE_CREATE', (d) => d.id === mention.id, { from });
    assert.equal(a.d.content, `<@${w.bot.id}> ping`, 'a mention of the bot shows content');
    const b = await S.botNoContent.waitForEvent('MESSAGE_CREATE', (d) => d.id === own.id, { from });
    assert.equal(b.d.content, 'bot speaking', 'the bot\'s own message shows content');
});

test('messages posted at once by several users reach every session in the order of their ids', async () => {
    const marks = Object.fromEntries(Object.entries(S).map(([k, c]) => [k, c.mark()]));
    const posters = [w.owner, w.member, w.bot];
    const posted = (await Promise.all(Array.from({ length: 60 }, (_, i) =>
        postMessage(api, posters[i % 3], w.text.id, `race ${i}`)))).map((m) => m.id);
    const byId = [...posted].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
    for (const k of ['owner', 'member', 'bot']) {
        const last = byId[byId.length - 1];
        await S[k].waitForEvent('MESSAGE_CREATE', (d) => d.id === last, { from: marks[k], what: `the last message on ${k}` });
        const got = S[k].events('MESSAGE_CREATE', marks[k]).map((p) => p.d.id).filter((id) => posted.includes(id));
        assert.deepEqual(got, byId, `${k}: every message once, in id order`);
    }
});

test('MESSAGE_UPDATE and MESSAGE_DELETE follow an edit and a delete', async () => {
    const m = await postMessage(api, w.member, w.text.id, 'before');
    const from = { o: S.owner.mark(), n: S.botNoContent.mark() };
    await api.must('PATCH', `/channels/${w.text.id}/messages/${m.id}`, { token: w.member.token, body: { content: 'after' } });
    const up = await S.owner.waitForEvent('MESSAGE_UPDATE', (d) => d.id === m.id, { from: from.o });
    assert.equal(up.d.content, 'after');
    assert.equal(up.d.channel_id, w.text.id);
    assert.equal(typeof up.d.edited_timestamp, 'string');
    const upN = await S.botNoContent.waitForEvent('MESSAGE_UPDATE', (d) => d.id === m.id, { from: from.n });
    assert.ok(upN.d.content === '' || upN.d.content === undefined, `no MESSAGE_CONTENT: no content in updates either: ${upN.d.content}`);

    await api.must('DELETE', `/channels/${w.text.id}/messages/${m.id}`, { token: w.member.token });
    const del = await S.owner.waitForEvent('MESSAGE_DELETE', (d) => d.id === m.id, { from: from.o });
    assert.equal(del.d.channel_id, w.text.id);
    assert.equal(del.d.guild_id, w.guildId);
    const updIdx = S.owner.received.indexOf(up);
    assert.ok(S.owner.received.indexOf(del) > updIdx, 'the delete comes after the update');
});

test('MESSAGE_DELETE_BULK lists the deleted ids', async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await postMessage(api, w.member, w.text.id, `bulk ${i}`)).id);
    const from = S.member.mark();
    await api.must('POST', `/channels/${w.text.id}/messages/bulk-delete`, { token: w.owner.token, body: { messages: ids } });
    const p = await S.member.waitForEvent('MESSAGE_DELETE_BULK', (d) => d.ids?.includes(ids[0]), { from });
    assert.deepEqual([...p.d.ids].sort(), [...ids].sort());
    assert.equal(p.d.channel_id, w.text.id);
    assert.equal(p.d.guild_id, w.guildId);
});

test('MESSAGE_REACTION_ADD, _REMOVE and _REMOVE_ALL, with the reactions intent only', async () => {
    const m = await postMessage(api, w.owner, w.text.id, 'react');
    const base = `/channels/${w.text.id}/messages/${m.id}/reactions`;
    const from = { b: S.bot.mark(), g: S.botGuilds.mark() };
    await api.must('PUT', `${base}/${enc('🔥')}/@me`, { token: w.member.token });
    const add = await S.bot.waitForEvent('MESSAGE_REACTION_ADD', (d) => d.message_id === m.id, { from: from.b });
    assert.equal(add.d.user_id, w.member.id);
    assert.equal(add.d.channel_id, w.text.id);
    assert.equal(add.d.guild_id, w.guildId);
    assert.equal(add.d.emoji.name, '🔥');
    assert.equal(add.d.emoji.id ?? null, null);
    if (add.d.member !== undefined) assert.equal(add.d.member.user?.id, w.member.id);

    await api.must('DELETE', `${base}/${enc('🔥')}/@me`, { token: w.member.token });
    const rem = await S.bot.waitForEvent('MESSAGE_REACTION_REMOVE', (d) => d.message_id === m.id, { from: from.b });
    assert.equal(rem.d.user_id, w.member.id);
    assert.equal(rem.d.emoji.name, '🔥');

    await api.must('PUT', `${base}/${enc('🔥')}/@me`, { token: w.owner.token });
    await api.must('DELETE', base, { token: w.owner.token });
    const all = await S.bot.waitForEvent('MESSAGE_REACTION_REMOVE_ALL', (d) => d.message_id === m.id, { from: from.b });
    assert.equal(all.d.channel_id, w.text.id);
    assert.equal(all.d.guild_id, w.guildId);
    await assertNone(S.botGuilds, 'MESSAGE_REACTION_ADD', (d) => d.message_id === m.id, from.g, 'no reactions intent');
});

test('TYPING_START names the user, channel and guild, with the typing intent only', async () => {
    const from = { o: S.owner.mark(), g: S.botGuilds.mark() };
    const t0 = Math.floor(Date.now() / 1000);
    await api.must('POST', `/channels/${w.text.id}/typing`, { token: w.member.token });
    const p = await S.owner.waitForEvent('TYPING_START', (d) => d.user_id === w.member.id, { from: from.o });
    assert.equal(p.d.channel_id, w.text.id);
    assert.equal(p.d.guild_id, w.guildId);
    assert.equal(typeof p.d.timestamp, 'number', 'timestamp: unix seconds');
    assert.ok(Math.abs(p.d.timestamp - t0) <= 5, `timestamp is now in seconds: ${p.d.timestamp}`);
    await assertNone(S.botGuilds, 'TYPING_START', () => true, from.g, 'no typing intent');
});

test('CHANNEL_CREATE, CHANNEL_UPDATE and CHANNEL_DELETE reach every session', async () => {
    const marks = Object.fromEntries(Object.entries(S).map(([k, c]) => [k, c.mark()]));
    const ch = await api.must('POST', `/guilds/${w.guildId}/channels`, { token: w.owner.token, body: { name: 'news', type: 0 } });
    await api.must('PATCH', `/channels/${ch.id}`, { token: w.owner.token, body: { name: 'old-news' } });
    await api.must('DELETE', `/channels/${ch.id}`, { token: w.owner.token });
    for (const [k, c] of Object.entries(S)) {
        const cr = await c.waitForEvent('CHANNEL_CREATE', (d) => d.id === ch.id, { from: marks[k], what: `CHANNEL_CREATE on ${k}` });
        assert.equal(cr.d.guild_id, w.guildId);
        assert.equal(cr.d.name, 'news');
        const up = await c.waitForEvent('CHANNEL_UPDATE', (d) => d.id === ch.id, { from: marks[k] });
        assert.equal(up.d.name, 'old-news');
        await c.waitForEvent('CHANNEL_DELETE', (d) => d.id === ch.id, { from: marks[k] });
    }
});

test('GUILD_UPDATE follows a rename', async () => {
    const from = S.member.mark();
    await api.must('PATCH', `/guilds/${w.guildId}`, { token: w.owner.token, body: { name: 'New Name' } });
    const p = await S.member.waitForEvent('GUILD_UPDATE', (d) => d.id === w.guildId, { from });
    assert.equal(p.d.name, 'New Name');
});

test('a user who joins gets GUILD_CREATE; members get GUILD_MEMBER_ADD with the members intent only', async () => {
    const joiner = await registerUser(api, 'joiner');
    const js = await session(joiner.token, INTENTS.ALL);
    const from = { j: js.mark(), o: S.owner.mark(), g: S.botGuilds.mark() };
    const inv = await api.must('POST', `/channels/${w.text.id}/invites`, { token: w.owner.token, body: {} });
    await api.must('POST', `/invites/${inv.code}`, { token: joiner.token, body: {} });
    const gc = await js.waitForEvent('GUILD_CREATE', (d) => d.id === w.guildId, { from: from.j });
    assert.ok(gc.d.channels.some((c) => c.id === w.text.id));
    const add = await S.owner.waitForEvent('GUILD_MEMBER_ADD', (d) => d.user?.id === joiner.id, { from: from.o });
    assert.equal(add.d.guild_id, w.guildId);
    assert.equal(add.d.user.username, joiner.username);
    assert.equal(typeof add.d.joined_at, 'string');
    await assertNone(S.botGuilds, 'GUILD_MEMBER_ADD', () => true, from.g, 'no GUILD_MEMBERS intent');

    // Now a member, it gets the guild's messages.
    const m = await postMessage(api, w.owner, w.text.id, 'welcome');
    await js.waitForEvent('MESSAGE_CREATE', (d) => d.id === m.id, { from: from.j });

    // It leaves: GUILD_DELETE for it, GUILD_MEMBER_REMOVE for the others, and no more messages.
    const from2 = { j: js.mark(), o: S.owner.mark() };
    await api.must('DELETE', `/users/@me/guilds/${w.guildId}`, { token: joiner.token });
    const gd = await js.waitForEvent('GUILD_DELETE', (d) => d.id === w.guildId, { from: from2.j });
    assert.ok(gd.d.unavailable === undefined || gd.d.unavailable === false, 'left, not an outage');
    const rem = await S.owner.waitForEvent('GUILD_MEMBER_REMOVE', (d) => d.user?.id === joiner.id, { from: from2.o });
    assert.equal(rem.d.guild_id, w.guildId);
    const m2 = await postMessage(api, w.owner, w.text.id, 'after you left');
    await S.owner.waitForEvent('MESSAGE_CREATE', (d) => d.id === m2.id, { from: from2.o });
    await sleep(300);
    assert.equal(js.events('MESSAGE_CREATE', from2.j).length, 0, 'no messages of a guild it left');
});

test('GUILD_MEMBER_UPDATE follows a nickname change', async () => {
    const from = S.owner.mark();
    const res = await api.patch(`/guilds/${w.guildId}/members/@me`, { nick: 'Nicky' }, { token: w.member.token });
    assert.equal(res.status, 200, `PATCH /guilds/{id}/members/@me: ${res.status} ${res.text}`);
    const p = await S.owner.waitForEvent('GUILD_MEMBER_UPDATE', (d) => d.user?.id === w.member.id, { from });
    assert.equal(p.d.guild_id, w.guildId);
    assert.equal(p.d.nick, 'Nicky');
});

test('INVITE_CREATE and INVITE_DELETE go to who may manage the channel, with the invites intent only', async () => {
    // Discord sends invite events only to sessions allowed to manage the channel: here the
    // owner; not a plain member; and not an owner session without GUILD_INVITES.
    const ownerNoInvites = await session(w.owner.token, INTENTS.ALL & ~INTENTS.GUILD_INVITES);
    const from = { o: S.owner.mark(), n: ownerNoInvites.mark(), m: S.member.mark() };
    const inv = await api.must('POST', `/channels/${w.text.id}/invites`, { token: w.owner.token, body: { max_age: 3600, max_uses: 5 } });
    const cr = await S.owner.waitForEvent('INVITE_CREATE', (d) => d.code === inv.code, { from: from.o });
    assert.equal(cr.d.channel_id, w.text.id);
    assert.equal(cr.d.guild_id, w.guildId);
    assert.equal(cr.d.max_age, 3600);
    assert.equal(cr.d.max_uses, 5);
    assert.equal(cr.d.inviter?.id, w.owner.id);
    await api.must('DELETE', `/invites/${inv.code}`, { token: w.owner.token });
    const del = await S.owner.waitForEvent('INVITE_DELETE', (d) => d.code === inv.code, { from: from.o });
    assert.equal(del.d.channel_id, w.text.id);
    assert.equal(del.d.guild_id, w.guildId);
    await assertNone(ownerNoInvites, 'INVITE_CREATE', () => true, from.n, 'no GUILD_INVITES intent');
    await assertNone(S.member, 'INVITE_CREATE', () => true, from.m, 'a member who cannot manage the channel');
    ownerNoInvites.ws.terminate();
});

test('PRESENCE_UPDATE: online on identify, op 3 status and activity, invisible and leaving look offline', async () => {
    const u = await registerUser(api, 'presence');
    await api.must('POST', `/invites/${(await api.must('POST', `/channels/${w.text.id}/invites`, { token: w.owner.token, body: {} })).code}`, { token: u.token, body: {} });
    const stranger = await session(w.outsider.token, INTENTS.ALL); // shares no guild with u
    const from = { o: S.owner.mark(), g: S.botGuilds.mark() };
    const forU = (status) => (d) => d.user?.id === u.id && d.status === status;

    const us = await session(u.token, INTENTS.ALL, { presence: { status: 'dnd', since: null, activities: [], afk: false } });
    const on = await S.owner.waitForEvent('PRESENCE_UPDATE', forU('dnd'), { from: from.o, what: 'dnd from IDENTIFY presence' });
    assert.equal(on.d.guild_id, w.guildId);

    us.send({ op: OP.PRESENCE_UPDATE, d: { since: null, status: 'idle', afk: false, activities: [{ name: 'chess', type: 0 }] } });
    const idle = await S.owner.waitForEvent('PRESENCE_UPDATE', forU('idle'), { from: from.o, what: 'idle' });
    assert.equal(idle.d.activities?.[0]?.name, 'chess');
    assert.equal(idle.d.activities[0].type, 0);

    us.send({ op: OP.PRESENCE_UPDATE, d: { since: null, status: 'online', afk: false,
        activities: [{ name: 'Custom Status', type: 4, state: 'baking bread' }] } });
    const custom = await S.owner.waitForEvent('PRESENCE_UPDATE', forU('online'), { from: from.o, what: 'custom status' });
    assert.equal(custom.d.activities?.[0]?.state, 'baking bread');

    // A new session of the owner sees u in GUILD_CREATE's presences.
    const late = await session(w.owner.token, INTENTS.ALL);
    const gcs = late.events('GUILD_CREATE').find((p) => p.d.id === w.guildId);
    const pres = gcs.d.presences.find((p) => p.user?.id === u.id);
    assert.equal(pres?.status, 'online', `GUILD_CREATE presences: ${JSON.stringify(gcs.d.presences)}`);
    late.ws.terminate();

    const mark2 = S.owner.mark();
    us.send({ op: OP.PRESENCE_UPDATE, d: { since: null, status: 'invisible', afk: false, activities: [] } });
    const inv = await S.owner.waitForEvent('PRESENCE_UPDATE', (d) => d.user?.id === u.id, { from: mark2, what: 'invisible' });
    assert.equal(inv.d.status, 'offline', 'invisible is shown as offline to others');

    us.send({ op: OP.PRESENCE_UPDATE, d: { since: null, status: 'online', afk: false, activities: [] } });
    await S.owner.waitForEvent('PRESENCE_UPDATE', forU('online'), { from: S.owner.received.indexOf(inv) + 1, what: 'online again' });
    const mark3 = S.owner.mark();
    await us.close(1000);
    const off = await S.owner.waitForEvent('PRESENCE_UPDATE', (d) => d.user?.id === u.id, { from: mark3, what: 'offline after the last session closed', timeout: 10000 });
    assert.equal(off.d.status, 'offline');

    await sleep(300);
    assert.equal(S.botGuilds.events('PRESENCE_UPDATE', from.g).length, 0, 'no GUILD_PRESENCES intent: no presence updates');
    assert.deepEqual(stranger.events('PRESENCE_UPDATE').filter((p) => p.d.user?.id === u.id), [], 'nothing to who shares no guild');
    stranger.ws.terminate();
});

test('GUILD_DELETE reaches the members when the owner deletes the guild', async () => {
    const owner = await registerUser(api, 'gdowner');
    const g = await createGuild(api, owner);
    const bot = await createBot(api, owner);
    await authorizeBot(api, owner, bot, g.id);
    const bs = await session(bot.token, INTENTS.GUILDS);
    const from = bs.mark();
    await api.must('DELETE', `/guilds/${g.id}`, { token: owner.token });
    const p = await bs.waitForEvent('GUILD_DELETE', (d) => d.id === g.id, { from });
    assert.ok(!p.d.unavailable, 'deleted, not unavailable');
});

test('DMs: MESSAGE_CREATE without guild_id reaches both people; a bot reads DM content without MESSAGE_CONTENT', async () => {
    const dm = await api.must('POST', '/users/@me/channels', { token: w.owner.token, body: { recipient_id: w.member.id } });
    const from = S.member.mark();
    const m = await postMessage(api, w.owner, dm.id, 'psst');
    const p = await S.member.waitForEvent('MESSAGE_CREATE', (d) => d.id === m.id, { from });
    assert.equal(p.d.channel_id, dm.id);
    assert.equal(p.d.guild_id, undefined, 'a DM message has no guild_id');
    assert.equal(p.d.content, 'psst');
    await S.owner.waitForEvent('MESSAGE_CREATE', (d) => d.id === m.id, { from: 0 });

    const tfrom = S.member.mark();
    await api.must('POST', `/channels/${dm.id}/typing`, { token: w.owner.token });
    const t = await S.member.waitForEvent('TYPING_START', (d) => d.channel_id === dm.id, { from: tfrom });
    assert.equal(t.d.user_id, w.owner.id);
    assert.equal(t.d.guild_id, undefined);

    const bdm = await api.must('POST', '/users/@me/channels', { token: w.member.token, body: { recipient_id: w.bot.id } });
    const bfrom = S.botNoContent.mark();
    const bm = await postMessage(api, w.member, bdm.id, 'hello bot');
    const bp = await S.botNoContent.waitForEvent('MESSAGE_CREATE', (d) => d.id === bm.id, { from: bfrom });
    assert.equal(bp.d.content, 'hello bot', 'DMs to a bot carry content without MESSAGE_CONTENT');
    await assertNone(S.botGuilds, 'MESSAGE_CREATE', (d) => d.id === bm.id, 0, 'no DIRECT_MESSAGES intent');
    assertSnowflake(dm.id, 'DM channel id');
});
