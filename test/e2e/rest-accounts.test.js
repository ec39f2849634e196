// REST, accounts: register, login by email or username, /users/@me (get, modify),
// /users/{id}, /users/@me/guilds, and what a bad or missing token gets (401).
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, registerUser, createGuild, uniqueName } = require('./lib/server');
const { assertSnowflake, assertError, assertOk } = require('./lib/expect');

let srv;
let api;

before(async () => {
    srv = await startServer('rest-accounts');
    api = srv.api;
});
after(() => srv?.stop());

test('register returns a token that authenticates as the new user', async () => {
    const username = uniqueName('reg');
    const res = await api.post('/auth/register', { username, email: `${username}@example.test`, password: 'a long enough password' });
    assert.ok([200, 201].includes(res.status), `register: ${res.status} ${res.text}`);
    assert.equal(typeof res.body.token, 'string');
    assert.ok(res.body.token.length >= 20, 'a token long enough not to be guessed');

    const me = assertOk(await api.get('/users/@me', { token: res.body.token }));
    assertSnowflake(me.id, 'user id');
    assert.equal(me.username, username);
    assert.equal(typeof me.discriminator, 'string');
    assert.ok(me.avatar === null || typeof me.avatar === 'string');
    assert.notEqual(me.bot, true, 'a registered user is not a bot');
});

test('registering a taken username or email is refused with Invalid Form Body', async () => {
    const u = await registerUser(api, 'taken');
    const again = await api.post('/auth/register', { username: u.username, email: `other-${u.email}`, password: 'another password 1' });
    assertError(again, 400, 50035, 'same username');
    const again2 = await api.post('/auth/register', { username: `${u.username}x`, email: u.email, password: 'another password 2' });
    assertError(again2, 400, 50035, 'same email');
});

test('registering without a password is refused with Invalid Form Body', async () => {
    const username = uniqueName('nopw');
    const res = await api.post('/auth/register', { username, email: `${username}@example.test` });
    assertError(res, 400, 50035);
    assert.ok(res.body.errors.password, `errors names the password field: ${res.text}`);
});

test('login by email and by username gives a working token; a wrong password gives none', async () => {
    const u = await registerUser(api, 'login');
    for (const login of [u.email, u.username]) {
        const res = await api.post('/auth/login', { login, password: u.password });
        const body = assertOk(res, 200, `login as ${login}`);
        assert.equal(typeof body.token, 'string');
        if (body.user_id !== undefined) assert.equal(body.user_id, u.id);
        const me = assertOk(await api.get('/users/@me', { token: body.token }));
        assert.equal(me.id, u.id);
    }
    const bad = await api.post('/auth/login', { login: u.email, password: `${u.password}!` });
    assert.ok([400, 401].includes(bad.status), `wrong password: ${bad.status} ${bad.text}`);
    assertError(bad, bad.status);
    assert.equal(bad.body.token, undefined, 'no token for a wrong password');
    const nobody = await api.post('/auth/login', { login: 'nobody-at-all@example.test', password: 'whatever it is' });
    assert.ok([400, 401].includes(nobody.status), `unknown login: ${nobody.status} ${nobody.text}`);
});

test('a missing or wrong token gets 401 with Discord\'s error shape', async () => {
    assertError(await api.get('/users/@me'), 401, 0, 'no Authorization');
    assertError(await api.get('/users/@me', { token: 'not-a-token' }), 401, 0, 'garbage token');
    const u = await registerUser(api, 'tok');
    assertError(await api.get('/users/@me', { token: `${u.token.slice(0, -2)}xx` }), 401, 0, 'altered token');
    assertError(await api.get('/users/@me', { token: { bot: u.token } }), 401, 0, 'a user token sent as a bot token');
});

test('PATCH /users/@me changes the global name and others see it', async () => {
    const u = await registerUser(api, 'patch');
    const v = await registerUser(api, 'viewer');
    const me = assertOk(await api.patch('/users/@me', { global_name: 'Display Name' }, { token: u.token }));
    assert.equal(me.id, u.id);
    assert.equal(me.global_name, 'Display Name');
    const seen = assertOk(await api.get(`/users/${u.id}`, { token: v.token }));
    assert.equal(seen.global_name, 'Display Name');
});

test('GET /users/{id} shows the public user, without private fields', async () => {
    const u = await registerUser(api, 'pub');
    const v = await registerUser(api, 'asker');
    const seen = assertOk(await api.get(`/users/${u.id}`, { token: v.token }));
    assert.equal(seen.id, u.id);
    assert.equal(seen.username, u.username);
    assert.equal(seen.email, undefined, 'another user\'s email is never shown');
    assert.equal(seen.password, undefined);
    const self = assertOk(await api.get('/users/@me', { token: u.token }));
    if (self.email !== undefined) assert.equal(self.email, u.email);
});

test('GET /users/{id} of nobody is 404 Unknown User', async () => {
    const v = await registerUser(api, 'asker');
    assertError(await api.get('/users/123456789012345678', { token: v.token }), 404, 10013);
});

test('GET /users/@me/guilds lists the guilds the user is in, with ownership', async () => {
    const u = await registerUser(api, 'guilds');
    assert.deepEqual(assertOk(await api.get('/users/@me/guilds', { token: u.token })), []);
    const g = await createGuild(api, u, 'My Guild');
    const list = assertOk(await api.get('/users/@me/guilds', { token: u.token }));
    assert.equal(list.length, 1);
    assert.equal(list[0].id, g.id);
    assert.equal(list[0].name, 'My Guild');
    assert.equal(list[0].owner, true);
    assert.equal(typeof list[0].permissions, 'string', 'permissions is a string bitfield');
});

test('the unversioned /api prefix serves the same API', async () => {
    const u = await registerUser(api, 'unv');
    const me = assertOk(await api.get('/users/@me', { token: u.token, prefix: '/api' }));
    assert.equal(me.id, u.id);
});
