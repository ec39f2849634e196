// REST, guilds and their channels: create (the creator owns it; @everyone and a text
// channel come with it), get, modify, delete; members list/get and leaving; channels of
// each guild type (text 0, voice 2, category 4) created, listed, modified and deleted;
// and who may do what (Missing Access, Missing Permissions, Unknown ...).
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, registerUser, createGuild } = require('./lib/server');
const { assertSnowflake, assertTimestamp, assertError, assertOk, CREATED, makeWorld } = require('./lib/expect');

let srv;
let api;

before(async () => {
    srv = await startServer('rest-guilds');
    api = srv.api;
});
after(() => srv?.stop());

// Not a member: Discord answers 403 Missing Access (or 404 Unknown Guild/Channel).
function assertNoAccess(res, what) {
    if (res.status === 404) assert.ok([10003, 10004].includes(res.body?.code), `${what}: ${res.status} ${res.text}`);
    else assertError(res, 403, 50001, what);
}

test('creating a guild makes the creator its owner, with @everyone and a text channel', async () => {
    const owner = await registerUser(api, 'creator');
    const res = await api.post('/guilds', { name: 'Hearth Club' }, { token: owner.token });
    const guild = assertOk(res, CREATED, 'create guild');
    assertSnowflake(guild.id, 'guild id');
    assert.equal(guild.name, 'Hearth Club');
    assert.equal(guild.owner_id, owner.id);
    assert.ok(Array.isArray(guild.roles), 'roles');
    const everyone = guild.roles.find((r) => r.id === guild.id);
    assert.ok(everyone, `the @everyone role has the guild's id: ${JSON.stringify(guild.roles)}`);
    assert.equal(everyone.name, '@everyone');
    assert.equal(typeof everyone.permissions, 'string', 'permissions is a string bitfield');

    const got = assertOk(await api.get(`/guilds/${guild.id}`, { token: owner.token }));
    assert.equal(got.id, guild.id);
    assert.equal(got.name, 'Hearth Club');
    assert.equal(got.owner_id, owner.id);

    const channels = assertOk(await api.get(`/guilds/${guild.id}/channels`, { token: owner.token }));
    const text = channels.filter((c) => c.type === 0);
    assert.equal(text.length, 1, `one text channel: ${JSON.stringify(channels)}`);
    assertSnowflake(text[0].id, 'channel id');
    assert.equal(text[0].guild_id, guild.id);

    const members = assertOk(await api.get(`/guilds/${guild.id}/members?limit=100`, { token: owner.token }));
    assert.deepEqual(members.map((m) => m.user.id), [owner.id]);
});

test('a guild without a name is Invalid Form Body', async () => {
    const owner = await registerUser(api, 'creator');
    assertError(await api.post('/guilds', {}, { token: owner.token }), 400, 50035);
    assertError(await api.post('/guilds', { name: '' }, { token: owner.token }), 400, 50035);
});

test('an unknown guild is 404 Unknown Guild; an outsider has no access', async () => {
    const w = await makeWorld(api);
    assertError(await api.get('/guilds/123456789012345678', { token: w.owner.token }), 404, 10004);
    assertNoAccess(await api.get(`/guilds/${w.guildId}`, { token: w.outsider.token }), 'outsider GET guild');
    assertNoAccess(await api.get(`/guilds/${w.guildId}/channels`, { token: w.outsider.token }), 'outsider channels');
    assertNoAccess(await api.get(`/guilds/${w.guildId}/members?limit=10`, { token: w.outsider.token }), 'outsider members');
    assertNoAccess(await api.get(`/channels/${w.text.id}`, { token: w.outsider.token }), 'outsider GET channel');
    assertNoAccess(await api.get(`/channels/${w.text.id}/messages`, { token: w.outsider.token }), 'outsider messages');
    assertNoAccess(await api.post(`/channels/${w.text.id}/messages`, { content: 'hi' }, { token: w.outsider.token }), 'outsider post');
});

test('the owner renames the guild; a plain member may not', async () => {
    const w = await makeWorld(api);
    const g = assertOk(await api.patch(`/guilds/${w.guildId}`, { name: 'Renamed' }, { token: w.owner.token }));
    assert.equal(g.name, 'Renamed');
    assert.equal(assertOk(await api.get(`/guilds/${w.guildId}`, { token: w.member.token })).name, 'Renamed');
    assertError(await api.patch(`/guilds/${w.guildId}`, { name: 'Mine now' }, { token: w.member.token }), 403, 50013);
    assert.equal(assertOk(await api.get(`/guilds/${w.guildId}`, { token: w.owner.token })).name, 'Renamed');
});

test('the owner deletes the guild (204); then it is Unknown Guild; a member may not', async () => {
    const w = await makeWorld(api);
    assertError(await api.delete(`/guilds/${w.guildId}`, { token: w.member.token }), 403, 50013);
    assertOk(await api.delete(`/guilds/${w.guildId}`, { token: w.owner.token }), 204);
    assertError(await api.get(`/guilds/${w.guildId}`, { token: w.owner.token }), 404, 10004);
    assert.deepEqual(assertOk(await api.get('/users/@me/guilds', { token: w.member.token })), []);
    const res = await api.get(`/channels/${w.text.id}`, { token: w.owner.token });
    assertError(res, 404, 10003, 'its channel is gone');
});

test('members: list and get, with user, roles and joined_at; unknown member is 10007', async () => {
    const w = await makeWorld(api);
    const list = assertOk(await api.get(`/guilds/${w.guildId}/members?limit=100`, { token: w.member.token }));
    assert.deepEqual(list.map((m) => m.user.id).sort(), [w.owner.id, w.member.id].sort());
    for (const m of list) {
        assert.ok(Array.isArray(m.roles), 'member roles');
        assertTimestamp(m.joined_at, 'joined_at');
        assert.equal(typeof m.user.username, 'string');
    }
    const one = assertOk(await api.get(`/guilds/${w.guildId}/members/${w.member.id}`, { token: w.owner.token }));
    assert.equal(one.user.id, w.member.id);
    assert.equal(one.user.username, w.member.username);
    assertError(await api.get(`/guilds/${w.guildId}/members/${w.outsider.id}`, { token: w.owner.token }), 404, 10007);
    const limited = assertOk(await api.get(`/guilds/${w.guildId}/members?limit=1`, { token: w.owner.token }));
    assert.equal(limited.length, 1, 'limit=1 gives one member');
});

test('a member leaves (204) and loses access; the others see one member fewer', async () => {
    const w = await makeWorld(api);
    assertOk(await api.delete(`/users/@me/guilds/${w.guildId}`, { token: w.member.token }), 204);
    assertError(await api.get(`/guilds/${w.guildId}/members/${w.member.id}`, { token: w.owner.token }), 404, 10007);
    assert.deepEqual(assertOk(await api.get('/users/@me/guilds', { token: w.member.token })), []);
    assertNoAccess(await api.get(`/channels/${w.text.id}/messages`, { token: w.member.token }), 'after leaving');
    const list = assertOk(await api.get(`/guilds/${w.guildId}/members?limit=100`, { token: w.owner.token }));
    assert.deepEqual(list.map((m) => m.user.id), [w.owner.id]);
});

test('channels: create text, voice, category and a text channel under the category', async () => {
    const w = await makeWorld(api);
    const create = async (body) => assertOk(await api.post(`/guilds/${w.guildId}/channels`, body, { token: w.owner.token }), CREATED, `create ${JSON.stringify(body)}`);
    const cat = await create({ name: 'topics', type: 4 });
    const text = await create({ name: 'random', type: 0, topic: 'anything', parent_id: cat.id });
    const voice = await create({ name: 'lounge', type: 2 });
    const plain = await create({ name: 'plain' }); // type defaults to text

    assert.equal(cat.type, 4);
    assert.equal(text.type, 0);
    assert.equal(text.parent_id, cat.id);
    assert.equal(text.topic, 'anything');
    assert.equal(voice.type, 2);
    assert.equal(plain.type, 0);
    for (const c of [cat, text, voice, plain]) {
        assertSnowflake(c.id, 'channel id');
        assert.equal(c.guild_id, w.guildId);
        assert.equal(typeof c.position, 'number', 'position');
    }
    const got = assertOk(await api.get(`/channels/${text.id}`, { token: w.member.token }));
    assert.equal(got.name, 'random');
    assert.equal(got.parent_id, cat.id);

    const list = assertOk(await api.get(`/guilds/${w.guildId}/channels`, { token: w.member.token }));
    const ids = list.map((c) => c.id);
    for (const c of [w.text, cat, text, voice, plain]) assert.ok(ids.includes(c.id), `listed: ${c.name}`);
});

test('channels: modify and delete; then Unknown Channel', async () => {
    const w = await makeWorld(api);
    const c = assertOk(await api.post(`/guilds/${w.guildId}/channels`, { name: 'old', type: 0 }, { token: w.owner.token }), CREATED);
    const m = assertOk(await api.patch(`/channels/${c.id}`, { name: 'new', topic: 'fresh' }, { token: w.owner.token }));
    assert.equal(m.id, c.id);
    assert.equal(m.name, 'new');
    assert.equal(m.topic, 'fresh');
    assert.equal(assertOk(await api.get(`/channels/${c.id}`, { token: w.member.token })).name, 'new');

    const del = await api.delete(`/channels/${c.id}`, { token: w.owner.token });
    assert.ok(del.status === 200 || del.status === 204, `delete channel: ${del.status} ${del.text}`);
    if (del.status === 200) assert.equal(del.body.id, c.id, 'Discord returns the deleted channel');
    assertError(await api.get(`/channels/${c.id}`, { token: w.owner.token }), 404, 10003);
    const list = assertOk(await api.get(`/guilds/${w.guildId}/channels`, { token: w.owner.token }));
    assert.ok(!list.some((x) => x.id === c.id), 'no longer listed');
    assertError(await api.post(`/channels/${c.id}/messages`, { content: 'x' }, { token: w.owner.token }), 404, 10003);
});

test('channels: a plain member may not create, modify or delete them', async () => {
    const w = await makeWorld(api);
    assertError(await api.post(`/guilds/${w.guildId}/channels`, { name: 'mine', type: 0 }, { token: w.member.token }), 403, 50013);
    assertError(await api.patch(`/channels/${w.text.id}`, { name: 'mine' }, { token: w.member.token }), 403, 50013);
    assertError(await api.delete(`/channels/${w.text.id}`, { token: w.member.token }), 403, 50013);
    assertOk(await api.get(`/channels/${w.text.id}`, { token: w.member.token }));
});

test('channels: a bad type or no name is Invalid Form Body; unknown channel is 10003', async () => {
    const w = await makeWorld(api);
    assertError(await api.post(`/guilds/${w.guildId}/channels`, { type: 0 }, { token: w.owner.token }), 400, 50035, 'no name');
    assertError(await api.post(`/guilds/${w.guildId}/channels`, { name: 'x', type: 99 }, { token: w.owner.token }), 400, 50035, 'type 99');
    assertError(await api.post(`/guilds/${w.guildId}/channels`, { name: 'dm', type: 1 }, { token: w.owner.token }), 400, 50035, 'a DM in a guild');
    assertError(await api.get('/channels/123456789012345678', { token: w.owner.token }), 404, 10003);
});
