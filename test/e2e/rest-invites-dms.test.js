// REST, invites and private channels. Invites: create with max_age/max_uses, get,
// accept (joining the guild), delete; expired or used-up invites refuse (10006 Unknown
// Invite). DMs: POST /users/@me/channels opens one DM per pair (the same channel from
// either side), group DMs of up to 10 people, messages in both, and no access for others.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, registerUser, postMessage, sleep } = require('./lib/server');
const { assertSnowflake, assertTimestamp, assertError, assertOk, CREATED, makeWorld } = require('./lib/expect');

let srv;
let api;

before(async () => {
    srv = await startServer('rest-invites-dms');
    api = srv.api;
});
after(() => srv?.stop());

const isMember = async (w, user) =>
    (await api.get(`/guilds/${w.guildId}/members/${user.id}`, { token: w.owner.token })).status === 200;

test('an invite is created with its limits, shown to anyone with a token, and joins its user', async () => {
    const w = await makeWorld(api);
    const inv = assertOk(await api.post(`/channels/${w.text.id}/invites`, { max_age: 3600, max_uses: 3 }, { token: w.member.token }), CREATED);
    assert.equal(typeof inv.code, 'string');
    assert.ok(inv.code.length >= 6, `a code hard to guess: ${inv.code}`);
    assert.equal(inv.guild?.id, w.guildId);
    assert.equal(inv.guild.name, w.guild.name);
    assert.equal(inv.channel?.id, w.text.id);
    assert.equal(inv.inviter?.id, w.member.id);
    assert.equal(inv.max_age, 3600);
    assert.equal(inv.max_uses, 3);
    assert.equal(inv.uses, 0);
    assertTimestamp(inv.expires_at, 'expires_at');
    const left = Date.parse(inv.expires_at) - Date.now();
    assert.ok(left > 3500e3 && left <= 3601e3, `expires in an hour: ${inv.expires_at}`);

    const seen = assertOk(await api.get(`/invites/${inv.code}`, { token: w.outsider.token }));
    assert.equal(seen.code, inv.code);
    assert.equal(seen.guild.id, w.guildId);
    assert.equal(seen.channel.id, w.text.id);

    assert.equal(await isMember(w, w.outsider), false);
    const acc = await api.post(`/invites/${inv.code}`, {}, { token: w.outsider.token });
    assertOk(acc, 200, 'accept');
    assert.equal(acc.body.guild?.id, w.guildId);
    assert.equal(await isMember(w, w.outsider), true);
    assertOk(await api.get(`/channels/${w.text.id}/messages`, { token: w.outsider.token }));

    // Accepting again while a member changes nothing.
    assertOk(await api.post(`/invites/${inv.code}`, {}, { token: w.outsider.token }));
    const members = assertOk(await api.get(`/guilds/${w.guildId}/members?limit=100`, { token: w.owner.token }));
    assert.equal(members.filter((m) => m.user.id === w.outsider.id).length, 1);
});

test('default invites last a day with no use limit', async () => {
    const w = await makeWorld(api);
    const inv = assertOk(await api.post(`/channels/${w.text.id}/invites`, {}, { token: w.owner.token }), CREATED);
    assert.equal(inv.max_age, 86400);
    assert.equal(inv.max_uses, 0);
    const never = assertOk(await api.post(`/channels/${w.text.id}/invites`, { max_age: 0 }, { token: w.owner.token }), CREATED);
    assert.equal(never.max_age, 0);
    assert.equal(never.expires_at, null, 'max_age 0 never expires');
    assertError(await api.post(`/channels/${w.text.id}/invites`, { max_age: 604801 }, { token: w.owner.token }), 400, 50035, 'over 7 days');
    assertError(await api.post(`/channels/${w.text.id}/invites`, { max_uses: 101 }, { token: w.owner.token }), 400, 50035, 'over 100 uses');
});

test('an unknown invite is 404 Unknown Invite', async () => {
    const u = await registerUser(api, 'nobody');
    assertError(await api.get('/invites/nosuchcode', { token: u.token }), 404, 10006);
    assertError(await api.post('/invites/nosuchcode', {}, { token: u.token }), 404, 10006);
});

test('an expired invite refuses to be seen or used', async () => {
    const w = await makeWorld(api);
    const inv = assertOk(await api.post(`/channels/${w.text.id}/invites`, { max_age: 1 }, { token: w.owner.token }), CREATED);
    assertOk(await api.get(`/invites/${inv.code}`, { token: w.outsider.token }));
    await sleep(2100);
    assertError(await api.get(`/invites/${inv.code}`, { token: w.outsider.token }), 404, 10006);
    assertError(await api.post(`/invites/${inv.code}`, {}, { token: w.outsider.token }), 404, 10006);
    assert.equal(await isMember(w, w.outsider), false);
});

test('a used-up invite refuses the next user', async () => {
    const w = await makeWorld(api);
    const second = await registerUser(api, 'second');
    const inv = assertOk(await api.post(`/channels/${w.text.id}/invites`, { max_uses: 1 }, { token: w.owner.token }), CREATED);
    assertOk(await api.post(`/invites/${inv.code}`, {}, { token: w.outsider.token }));
    assertError(await api.post(`/invites/${inv.code}`, {}, { token: second.token }), 404, 10006);
    assert.equal(await isMember(w, second), false);
});

test('deleting an invite: its creator or a manager may, a plain member may not', async () => {
    const w = await makeWorld(api);
    const inv = assertOk(await api.post(`/channels/${w.text.id}/invites`, {}, { token: w.owner.token }), CREATED);
    assertError(await api.delete(`/invites/${inv.code}`, { token: w.member.token }), 403, 50013);
    const del = assertOk(await api.delete(`/invites/${inv.code}`, { token: w.owner.token }));
    assert.equal(del.code, inv.code, 'Discord returns the deleted invite');
    assertError(await api.get(`/invites/${inv.code}`, { token: w.outsider.token }), 404, 10006);
    assertError(await api.post(`/invites/${inv.code}`, {}, { token: w.outsider.token }), 404, 10006);
});

test('an outsider cannot make invites to a guild it is not in', async () => {
    const w = await makeWorld(api);
    const res = await api.post(`/channels/${w.text.id}/invites`, {}, { token: w.outsider.token });
    assert.ok(res.status === 403 || res.status === 404, `outsider invite: ${res.status} ${res.text}`);
    assertError(res, res.status);
});

test('a DM opens once per pair, from either side, and carries messages both ways', async () => {
    const a = await registerUser(api, 'dma');
    const b = await registerUser(api, 'dmb');
    const c = await registerUser(api, 'dmc');
    const dm = assertOk(await api.post('/users/@me/channels', { recipient_id: b.id }, { token: a.token }), CREATED);
    assertSnowflake(dm.id, 'DM id');
    assert.equal(dm.type, 1);
    assert.deepEqual(dm.recipients.map((u) => u.id), [b.id], 'recipients: the other person');
    assert.equal(dm.guild_id ?? null, null);
    const again = assertOk(await api.post('/users/@me/channels', { recipient_id: b.id }, { token: a.token }), CREATED);
    assert.equal(again.id, dm.id, 'the same DM again');
    const other = assertOk(await api.post('/users/@me/channels', { recipient_id: a.id }, { token: b.token }), CREATED);
    assert.equal(other.id, dm.id, 'the same DM from the other side');
    assert.deepEqual(other.recipients.map((u) => u.id), [a.id]);

    const m1 = await postMessage(api, a, dm.id, 'hi b');
    const m2 = await postMessage(api, b, dm.id, 'hi a');
    assert.equal(m1.guild_id ?? null, null);
    const list = assertOk(await api.get(`/channels/${dm.id}/messages`, { token: a.token }));
    assert.deepEqual(list.map((m) => m.id), [m2.id, m1.id]);
    assert.equal(assertOk(await api.get(`/channels/${dm.id}`, { token: b.token })).type, 1);

    const res = await api.get(`/channels/${dm.id}/messages`, { token: c.token });
    assert.ok(res.status === 403 || res.status === 404, `a third user reading the DM: ${res.status} ${res.text}`);
    assertError(res, res.status);
    const post = await api.post(`/channels/${dm.id}/messages`, { content: 'intrude' }, { token: c.token });
    assert.ok(post.status === 403 || post.status === 404, `a third user posting in the DM: ${post.status}`);
});

test('a DM to nobody is refused', async () => {
    const a = await registerUser(api, 'dma');
    const res = await api.post('/users/@me/channels', { recipient_id: '123456789012345678' }, { token: a.token });
    assert.ok(res.status === 400 || res.status === 404, `DM to an unknown user: ${res.status} ${res.text}`);
    assertError(res, res.status);
});

test('a bot opens a DM with a user it shares a guild with', async () => {
    const w = await makeWorld(api, { bot: true });
    const dm = assertOk(await api.post('/users/@me/channels', { recipient_id: w.member.id }, { token: w.bot.auth }), CREATED);
    assert.equal(dm.type, 1);
    const m = await postMessage(api, w.bot, dm.id, 'hello from a bot');
    assert.equal(m.author.id, w.bot.id);
    assert.equal(m.author.bot, true);
    const seen = assertOk(await api.get(`/channels/${dm.id}/messages`, { token: w.member.token }));
    assert.equal(seen[0].content, 'hello from a bot');
});

test('a group DM holds up to 10 people; all of them read it', async () => {
    const users = [];
    for (let i = 0; i < 11; i++) users.push(await registerUser(api, 'grp'));
    const [owner, ...rest] = users;
    const g = assertOk(await api.post('/users/@me/channels', { recipients: rest.slice(0, 2).map((u) => u.id) }, { token: owner.token }), CREATED);
    assert.equal(g.type, 3);
    assert.equal(g.owner_id, owner.id);
    assert.deepEqual(g.recipients.map((u) => u.id).sort(), rest.slice(0, 2).map((u) => u.id).sort());
    const m = await postMessage(api, rest[1], g.id, 'group hello');
    for (const u of [owner, rest[0]]) {
        const list = assertOk(await api.get(`/channels/${g.id}/messages`, { token: u.token }));
        assert.equal(list[0].id, m.id);
    }
    const outsider = users[10];
    const res = await api.get(`/channels/${g.id}/messages`, { token: outsider.token });
    assert.ok(res.status === 403 || res.status === 404, `outsider: ${res.status}`);

    const nine = assertOk(await api.post('/users/@me/channels', { recipients: rest.slice(0, 9).map((u) => u.id) }, { token: owner.token }), CREATED);
    assert.equal(nine.recipients.length, 9, '10 people in all');
    const ten = await api.post('/users/@me/channels', { recipients: rest.map((u) => u.id) }, { token: owner.token });
    assert.equal(ten.status, 400, `11 people: ${ten.status} ${ten.text}`);
    assertError(ten, 400);
});
