// REST, bots the way Discord does it: an application, its bot user and token
// ("Authorization: Bot <token>"), the OAuth2 authorize call that adds the bot to a
// guild its caller manages, and /gateway, /gateway/bot.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, registerUser, createBot, createGuild, joinGuild, authorizeBot } = require('./lib/server');
const { assertSnowflake, assertError, assertOk, CREATED } = require('./lib/expect');

let srv;
let api;

before(async () => {
    srv = await startServer('rest-bots');
    api = srv.api;
});
after(() => srv?.stop());

test('an application gets a bot user whose token works with the Bot prefix only', async () => {
    const owner = await registerUser(api, 'appowner');
    const app = assertOk(await api.post('/applications', { name: 'My App' }, { token: owner.token }), CREATED, 'create application');
    assertSnowflake(app.id, 'application id');
    assert.equal(app.name, 'My App');

    const res = await api.post(`/applications/${app.id}/bot`, {}, { token: owner.token });
    assert.ok([200, 201].includes(res.status), `create bot: ${res.status} ${res.text}`);
    const token = res.body.token;
    assert.equal(typeof token, 'string');

    const me = assertOk(await api.get('/users/@me', { token: { bot: token } }));
    assertSnowflake(me.id, 'bot user id');
    assert.equal(me.bot, true, 'the bot user says bot: true');
    assert.notEqual(me.id, owner.id);

    assertError(await api.get('/users/@me', { token }), 401, 0, 'a bot token without "Bot "');
    assertError(await api.get('/users/@me', { token: { bot: `${token}x` } }), 401, 0, 'a wrong bot token');
});

test('nobody but the owner can make a bot for an application', async () => {
    const owner = await registerUser(api, 'appowner');
    const other = await registerUser(api, 'thief');
    const app = assertOk(await api.post('/applications', { name: 'Mine' }, { token: owner.token }), CREATED);
    const res = await api.post(`/applications/${app.id}/bot`, {}, { token: other.token });
    assert.ok([403, 404].includes(res.status), `another user's bot request: ${res.status} ${res.text}`);
    assertError(res, res.status);
    assert.equal(res.body.token, undefined);
});

test('oauth2 authorize adds the bot to the guild, which it then sees', async () => {
    const owner = await registerUser(api, 'gowner');
    const bot = await createBot(api, owner);
    const g = await createGuild(api, owner, 'Bot Home');

    assert.deepEqual(assertOk(await api.get('/users/@me/guilds', { token: bot.auth })), []);
    assertError(await api.get(`/guilds/${g.id}/members/${bot.id}`, { token: owner.token }), 404, 10007, 'before authorize');

    const q = new URLSearchParams({ client_id: bot.appId, scope: 'bot', permissions: '8' });
    const res = await api.post(`/oauth2/authorize?${q}`, { authorize: true, guild_id: g.id, permissions: '8' }, { token: owner.token });
    assert.ok(res.status >= 200 && res.status < 300, `authorize: ${res.status} ${res.text}`);

    const member = assertOk(await api.get(`/guilds/${g.id}/members/${bot.id}`, { token: owner.token }));
    assert.equal(member.user.id, bot.id);
    assert.equal(member.user.bot, true);

    const guilds = assertOk(await api.get('/users/@me/guilds', { token: bot.auth }));
    assert.deepEqual(guilds.map((x) => x.id), [g.id]);
    const seen = assertOk(await api.get(`/guilds/${g.id}`, { token: bot.auth }));
    assert.equal(seen.name, 'Bot Home');
    const channels = assertOk(await api.get(`/guilds/${g.id}/channels`, { token: bot.auth }));
    assert.ok(channels.some((c) => c.id === g.text.id));
});

test('a member who does not manage the guild cannot add a bot to it', async () => {
    const owner = await registerUser(api, 'gowner');
    const member = await registerUser(api, 'plain');
    const g = await createGuild(api, owner);
    await joinGuild(api, owner, member, g.text.id);
    const bot = await createBot(api, member);
    const q = new URLSearchParams({ client_id: bot.appId, scope: 'bot', permissions: '0' });
    const res = await api.post(`/oauth2/authorize?${q}`, { authorize: true, guild_id: g.id }, { token: member.token });
    assert.ok(res.status === 403 || res.status === 400, `authorize by a plain member: ${res.status} ${res.text}`);
    assertError(res, res.status);
    assertError(await api.get(`/guilds/${g.id}/members/${bot.id}`, { token: owner.token }), 404, 10007, 'the bot stays out');
});

test('authorizing an unknown application is refused', async () => {
    const owner = await registerUser(api, 'gowner');
    const g = await createGuild(api, owner);
    const q = new URLSearchParams({ client_id: '123456789012345678', scope: 'bot', permissions: '0' });
    const res = await api.post(`/oauth2/authorize?${q}`, { authorize: true, guild_id: g.id }, { token: owner.token });
    assert.ok(res.status === 404 || res.status === 400, `unknown client_id: ${res.status} ${res.text}`);
    assertError(res, res.status);
});

test('GET /gateway gives a ws:// URL on this server, without auth', async () => {
    const gw = assertOk(await api.get('/gateway'));
    assert.equal(typeof gw.url, 'string');
    const u = new URL(gw.url);
    assert.equal(u.protocol, 'ws:');
    assert.equal(u.port, String(srv.port), `the gateway URL names this server's port: ${gw.url}`);
    assert.equal(u.search, '', 'the URL has no query: clients add ?v=10&encoding=json');
});

test('GET /gateway/bot gives url, shards and session_start_limit to a bot', async () => {
    const owner = await registerUser(api, 'gbowner');
    const bot = await createBot(api, owner);
    const gw = assertOk(await api.get('/gateway/bot', { token: bot.auth }));
    assert.equal(new URL(gw.url).protocol, 'ws:');
    assert.equal(gw.shards, 1);
    const l = gw.session_start_limit;
    assert.ok(l && typeof l === 'object', `session_start_limit: ${JSON.stringify(gw)}`);
    for (const k of ['total', 'remaining', 'reset_after', 'max_concurrency']) {
        assert.equal(typeof l[k], 'number', `session_start_limit.${k}`);
    }
    assert.ok(l.remaining > 0 && l.max_concurrency >= 1);
    assertError(await api.get('/gateway/bot'), 401, 0, 'without a token');
});

test('the permissions asked at authorize come as the bot\'s managed role, and work', async () => {
    // As on Discord: adding a bot with permissions=8 (ADMINISTRATOR) gives it a managed
    // role named after it with those permissions (tags.bot_id), so it can moderate.
    const owner = await registerUser(api, 'gowner');
    const member = await registerUser(api, 'plain');
    const g = await createGuild(api, owner);
    await joinGuild(api, owner, member, g.text.id);
    const bot = await createBot(api, owner);
    await authorizeBot(api, owner, bot, g.id, '8');

    const m = assertOk(await api.get(`/guilds/${g.id}/members/${bot.id}`, { token: owner.token }));
    const roles = assertOk(await api.get(`/guilds/${g.id}/roles`, { token: owner.token }));
    const mine = roles.filter((r) => m.roles.includes(r.id));
    assert.equal(mine.length, 1, `the bot has one role: member ${JSON.stringify(m.roles)}, roles ${JSON.stringify(roles)}`);
    assert.equal(mine[0].managed, true);
    assert.equal(mine[0].permissions, '8');
    assert.equal(mine[0].tags?.bot_id, bot.id);

    const msg = assertOk(await api.post(`/channels/${g.text.id}/messages`, { content: 'moderate me' }, { token: member.token }));
    assertOk(await api.delete(`/channels/${g.text.id}/messages/${msg.id}`, { token: bot.auth }), 204, 'an administrator bot deletes a member\'s message');
});
