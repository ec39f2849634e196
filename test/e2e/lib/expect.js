// Assertions shared by the end-to-end tests: Discord's error shape, snowflakes as
// strings, ISO timestamps; and makeWorld(), the guild with an owner, a member, an
// outsider and (optionally) a bot that most tests start from.
'use strict';

const assert = require('node:assert/strict');
const { registerUser, createGuild, joinGuild, createBot, authorizeBot } = require('./server');

const DISCORD_EPOCH = 1420070400000n;

// A snowflake: a decimal string (never a JSON number) whose timestamp part is within a
// day of now when fresh is set.
function assertSnowflake(v, what = 'id', { fresh = true } = {}) {
    assert.equal(typeof v, 'string', `${what} must be a string snowflake, got ${JSON.stringify(v)}`);
    assert.match(v, /^[1-9][0-9]{0,19}$/, `${what} is not a decimal snowflake: ${v}`);
    const n = BigInt(v);
    assert.ok(n < 2n ** 64n, `${what} does not fit 64 bits: ${v}`);
    if (fresh) {
        const ms = Number((n >> 22n) + DISCORD_EPOCH);
        assert.ok(Math.abs(ms - Date.now()) < 86400000,
            `${what} ${v} has timestamp ${new Date(ms).toISOString()}, not near now (Discord epoch 2015-01-01)`);
    }
}

// An ISO 8601 timestamp string that parses.
function assertTimestamp(v, what = 'timestamp') {
    assert.equal(typeof v, 'string', `${what} must be an ISO 8601 string, got ${JSON.stringify(v)}`);
    assert.match(v, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/, `${what} is not ISO 8601: ${v}`);
    assert.ok(!Number.isNaN(Date.parse(v)), `${what} does not parse: ${v}`);
}

// res (from Api.request) is Discord's error shape with this status and JSON code:
// {"code": code, "message": "..."} (and, for 50035, an "errors" object).
function assertError(res, status, code, what = '') {
    const ctx = `${what ? `${what}: ` : ''}got ${res.status} ${res.text.slice(0, 300)}`;
    assert.equal(res.status, status, `expected HTTP ${status}; ${ctx}`);
    assert.ok(res.body && typeof res.body === 'object', `expected a JSON error body; ${ctx}`);
    assert.match(String(res.headers.get('content-type')), /application\/json/, `error Content-Type; ${ctx}`);
    assert.equal(typeof res.body.message, 'string', `error "message" must be a string; ${ctx}`);
    assert.ok(res.body.message.length > 0, `error "message" is empty; ${ctx}`);
    if (code !== undefined) assert.equal(res.body.code, code, `expected Discord code ${code}; ${ctx}`);
    else assert.equal(typeof res.body.code, 'number', `error "code" must be a number; ${ctx}`);
    if (res.body.code === 50035) {
        assert.ok(res.body.errors && typeof res.body.errors === 'object', `50035 comes with "errors"; ${ctx}`);
    }
}

// res succeeded with status (a number or a list of allowed ones; 200 by default) and a
// JSON body; returns the body.
function assertOk(res, status = 200, what = '') {
    const allowed = Array.isArray(status) ? status : [status];
    assert.ok(allowed.includes(res.status),
        `${what ? `${what}: ` : ''}expected HTTP ${allowed.join(' or ')}, got ${res.status} ${res.text.slice(0, 300)}`);
    if (res.status !== 204) {
        assert.match(String(res.headers.get('content-type')), /application\/json/, `${what} Content-Type`);
    } else {
        assert.equal(res.text, '', `${what}: a 204 has no body`);
    }
    return res.body;
}

// Creation endpoints answer 200 or 201 (Discord uses both).
const CREATED = [200, 201];

// The guild most tests start from: owner (who created it), member (joined by invite),
// outsider (in no guild), and when bot is set, a bot authorized into it.
async function makeWorld(api, { bot = false } = {}) {
    const owner = await registerUser(api, 'owner');
    const member = await registerUser(api, 'member');
    const outsider = await registerUser(api, 'outsider');
    const g = await createGuild(api, owner);
    await joinGuild(api, owner, member, g.text.id);
    let b = null;
    if (bot) {
        b = await createBot(api, owner);
        await authorizeBot(api, owner, b, g.id);
    }
    return { owner, member, outsider, guild: g.guild, guildId: g.id, text: g.text, channels: g.channels, bot: b };
}

module.exports = { assertSnowflake, assertTimestamp, assertError, assertOk, CREATED, makeWorld };
