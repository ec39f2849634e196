// Rate limits end to end, on a server run at Discord's own limits
// (--rate-limit-multiplier 1): an unmodified discord.js bot that sends 50 messages in a
// burst gets every one through, in order, by waiting as the X-RateLimit-* headers tell
// it (5 messages per 5 s per channel: about 45 s); and, raw, the 429 a flood gets:
// Discord's body ({message, retry_after, global}) and headers (Retry-After,
// X-RateLimit-Limit/-Remaining/-Reset/-Reset-After/-Bucket/-Scope, X-RateLimit-Global
// for the global limit), while another user's requests are answered at once.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Client, Events, GatewayIntentBits, RESTEvents } = require('discord.js');
const { startServer, sleep } = require('./lib/server');
const { makeWorld } = require('./lib/expect');

let srv;
let api;
let w;

before(async () => {
    srv = await startServer('ratelimit', { rateLimitMultiplier: 1 });
    api = srv.api;
    w = await makeWorld(api, { bot: true });
});

after(async () => {
    await srv?.stop();
});

// One raw request, no retry on 429 (lib's Api waits those out): {status, headers, body}.
async function raw(method, route, token, body) {
    const headers = {};
    if (token) headers.Authorization = token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(`${srv.base}/api/v10${route}`, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(20000),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

test('discord.js: 50 messages sent in a burst all get through, in order, by waiting', { timeout: 180000 }, async () => {
    const client = new Client({
        intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages],
        rest: { api: `${srv.base}/api` },
    });
    const limited = [];
    const statuses = [];
    client.rest.on(RESTEvents.RateLimited, (info) => limited.push(info));
    client.rest.on(RESTEvents.Response, (req, res) => {
        if (String(req.method).toUpperCase() === 'POST' && /\/messages$/.test(req.path)) statuses.push(res.status);
    });
    const seen = [];
    client.on(Events.MessageCreate, (m) => {
        if (m.author.id === w.bot.id && /^burst \d+$/.test(m.content)) seen.push(m.content);
    });
    try {
        const ready = new Promise((resolve) => client.once(Events.ClientReady, resolve));
        await client.login(w.bot.token);
        await ready;
        const channel = await client.channels.fetch(w.text.id);

        const t0 = Date.now();
        // All 50 queued at once, as a careless bot would: the library orders and paces them.
        const sent = await Promise.all(Array.from({ length: 50 }, (_, i) => channel.send(`burst ${i}`)));
        const ms = Date.now() - t0;

        assert.equal(sent.length, 50);
        sent.forEach((m, i) => assert.equal(m.content, `burst ${i}`));
        for (let i = 1; i < sent.length; i++) {
            assert.ok(BigInt(sent[i].id) > BigInt(sent[i - 1].id), `message ${i} has a later id than ${i - 1}`);
        }
        // 5 per 5 s per channel: ten windows, so nine waits of most of 5 s each.
        assert.ok(ms >= 35000, `50 messages took ${ms} ms: the limits were not applied`);
        assert.ok(limited.length > 0, 'discord.js waited for the rate limit at least once');
        assert.equal(statuses.filter((s) => s === 200).length, 50, `statuses: ${statuses.join(',')}`);
        // Waiting by the headers, it never needed to be refused.
        assert.equal(statuses.filter((s) => s === 429).length, 0, `statuses: ${statuses.join(',')}`);

        // The channel holds them in order (newest first from the API).
        const list = await api.must('GET', `/channels/${w.text.id}/messages?limit=100`, { token: w.member.token });
        const burst = list.filter((m) => /^burst \d+$/.test(m.content)).reverse();
        assert.deepEqual(burst.map((m) => m.content), Array.from({ length: 50 }, (_, i) => `burst ${i}`));
        // And the gateway delivered them in that order too.
        for (let i = 0; i < 50 && seen.length < 50; i++) await sleep(100);
        assert.deepEqual(seen, Array.from({ length: 50 }, (_, i) => `burst ${i}`));
    } finally {
        await client.destroy();
    }
});

test('raw: a flood gets 429s with Discord\'s body and headers; another user is answered at once', async () => {
    // A channel of its own, so the discord.js test's bucket does not matter.
    const ch = await api.must('POST', `/guilds/${w.guildId}/channels`, { token: w.owner.token, body: { name: 'flood' } });
    const route = `/channels/${ch.id}/messages`;
    let bucket = null;
    for (let i = 0; i < 5; i++) {
        const res = await raw('POST', route, w.member.token, { content: `flood ${i}` });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('x-ratelimit-limit'), '5');
        assert.equal(res.headers.get('x-ratelimit-remaining'), String(4 - i));
        const after = Number(res.headers.get('x-ratelimit-reset-after'));
        assert.ok(after > 0 && after <= 5, `reset-after ${after}`);
        const reset = Number(res.headers.get('x-ratelimit-reset'));
        assert.ok(Math.abs(reset * 1000 - (Date.now() + after * 1000)) < 2000, `reset ${reset} is an epoch time in seconds`);
        bucket ??= res.headers.get('x-ratelimit-bucket');
        assert.match(bucket, /^[0-9a-f]{16}$/);
        assert.equal(res.headers.get('x-ratelimit-bucket'), bucket);
    }
    const res = await raw('POST', route, w.member.token, { content: 'one too many' });
    assert.equal(res.status, 429);
    assert.match(res.headers.get('content-type'), /application\/json/);
    assert.equal(res.body.message, 'You are being rate limited.');
    assert.equal(res.body.global, false);
    assert.equal(typeof res.body.retry_after, 'number');
    assert.ok(res.body.retry_after > 0 && res.body.retry_after <= 5, `retry_after ${res.body.retry_after}`);
    const retry = Number(res.headers.get('retry-after'));
    assert.ok(Number.isInteger(retry) && retry >= res.body.retry_after && retry <= 5, `Retry-After ${retry}`);
    assert.equal(res.headers.get('x-ratelimit-scope'), 'user');
    assert.equal(res.headers.get('x-ratelimit-remaining'), '0');
    assert.equal(res.headers.get('x-ratelimit-bucket'), bucket);
    assert.equal(res.headers.get('x-ratelimit-global'), null);

    // The owner, in the same channel at the same moment: its own bucket, no wait.
    const t0 = Date.now();
    const other = await raw('POST', route, w.owner.token, { content: 'not throttled' });
    assert.equal(other.status, 200);
    assert.equal(other.headers.get('x-ratelimit-remaining'), '4');
    assert.ok(Date.now() - t0 < 1000);

    // After retry_after, the member may post again.
    await sleep(res.body.retry_after * 1000 + 50);
    assert.equal((await raw('POST', route, w.member.token, { content: 'after waiting' })).status, 200);
});

test('raw: the global limit per token (50 per second) answers 429 with global true', async () => {
    let refused = [];
    let ok = 0;
    for (let attempt = 0; attempt < 5 && refused.length === 0; attempt++) {
        await sleep(1100); // a fresh global window
        const t0 = Date.now();
        const all = await Promise.all(Array.from({ length: 60 }, (_, i) =>
            raw('GET', i % 2 ? '/users/@me' : '/users/@me/guilds', w.outsider.token)));
        if (Date.now() - t0 > 900) continue; // straddled two windows: try again
        ok = all.filter((r) => r.status === 200).length;
        refused = all.filter((r) => r.status === 429);
    }
    assert.equal(ok, 50);
    assert.equal(refused.length, 10);
    for (const res of refused) {
        assert.equal(res.body.global, true, JSON.stringify([res.body, [...res.headers]]));
        assert.equal(res.body.message, 'You are being rate limited.');
        assert.ok(res.body.retry_after > 0 && res.body.retry_after <= 1);
        assert.equal(res.headers.get('x-ratelimit-global'), 'true');
        assert.equal(res.headers.get('x-ratelimit-scope'), 'global');
        assert.ok(Number(res.headers.get('retry-after')) >= 1);
    }
    // Another token is not affected.
    assert.equal((await raw('GET', '/users/@me', w.member.token)).status, 200);
});
