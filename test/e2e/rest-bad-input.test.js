// REST, bad input: malformed or oversize bodies, wrong JSON types, deep nesting, bad ids
// in paths, unknown routes and methods, raw garbage on the socket, and a burst of
// parallel requests. Each gets Discord's error shape (or a plain close for garbage), and
// the server stays up and loses nothing.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { startServer, postMessage } = require('./lib/server');
const { assertError, assertOk, makeWorld } = require('./lib/expect');

let srv;
let api;
let w;

before(async () => {
    srv = await startServer('rest-bad-input');
    api = srv.api;
    w = await makeWorld(api);
});
after(() => srv?.stop());

const msgs = () => `/channels/${w.text.id}/messages`;
const jsonRaw = (raw) => ({ token: w.owner.token, raw, headers: { 'Content-Type': 'application/json' } });

// Sends bytes on a fresh TCP connection; resolves everything the server answered
// before closing (or after 3 s).
function rawHttp(bytes) {
    return new Promise((resolve) => {
        const chunks = [];
        const s = net.connect(srv.port, '127.0.0.1', () => s.write(bytes));
        s.on('data', (d) => chunks.push(d));
        s.on('error', () => {});
        s.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
        setTimeout(() => s.destroy(), 3000).unref();
    });
}

test('malformed JSON is 400 with Discord\'s invalid JSON error', async () => {
    for (const raw of ['{"content": "unterminated', '{content: "x"}', '{"content": "a",}', 'not json at all', Buffer.from([0xff, 0xfe, 0x7b, 0x7d])]) {
        const res = await api.request('POST', msgs(), jsonRaw(raw));
        assertError(res, 400, 50109, `body ${JSON.stringify(raw)}`);
    }
});

test('JSON of the wrong shape is 400 Invalid Form Body', async () => {
    for (const body of [[1, 2], '"a string"', '42', 'null']) {
        const res = await api.request('POST', msgs(), jsonRaw(body));
        assert.equal(res.status, 400, `body ${body}: ${res.status} ${res.text}`);
        assertError(res, 400);
    }
    const wrongType = await api.post(msgs(), { content: { nested: true } }, { token: w.owner.token });
    assertError(wrongType, 400, 50035, 'content as an object');
    const badRef = await api.post(msgs(), { content: 'x', message_reference: { message_id: 'abc' } }, { token: w.owner.token });
    assertError(badRef, 400, 50035, 'a reference to a non-snowflake');
});

test('deeply nested JSON is refused, and the server goes on and stops cleanly', async () => {
    // A server of its own: if this hangs a scheduler, the other tests here still say
    // what they test.
    const own = await startServer('rest-bad-input-deep');
    try {
        for (const depth of [1000, 100000]) {
            const deep = `${'['.repeat(depth)}${']'.repeat(depth)}`;
            const res = await own.api.request('POST', '/auth/login', { raw: deep, headers: { 'Content-Type': 'application/json' } });
            assert.ok(res.status === 400 || res.status === 413, `nesting ${depth} deep: ${res.status} ${res.text.slice(0, 200)}`);
            assertError(res, res.status);
        }
        assertOk(await own.api.get('/gateway'), 200, 'still answering');
    } finally {
        await own.stop();
    }
});

test('an oversize body is 413 with a JSON error, and the server goes on', async () => {
    // The server may answer 413 from Content-Length alone and close before the body is
    // sent, which some HTTP clients report as a write error: so this speaks raw HTTP and
    // reads what the server says.
    const size = 2 << 20;
    const head = `POST /api/v10/channels/${w.text.id}/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
        `Authorization: ${w.owner.token}\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`;
    const answer = await rawHttp(Buffer.concat([Buffer.from(head), Buffer.from(`{"content":"${'x'.repeat(60000)}`)]));
    assert.match(answer, /^HTTP\/1\.1 413 /, `2 MiB body: ${JSON.stringify(answer.slice(0, 200))}`);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
    assert.equal(typeof body.code, 'number');
    assert.equal(typeof body.message, 'string');
    const m = await postMessage(api, w.owner, w.text.id, 'still here');
    assert.equal(m.content, 'still here');
});

test('ids that are not snowflakes are refused with Discord\'s error shape', async () => {
    for (const id of ['abc', '-5', '1.5', '99999999999999999999999', '0x10']) {
        const res = await api.get(`/channels/${encodeURIComponent(id)}/messages`, { token: w.owner.token });
        if (res.status === 400) assertError(res, 400, 50035, `channel id ${id}`);
        else assertError(res, 404, res.body?.code === 0 ? 0 : 10003, `channel id ${id}`);
    }
    const res = await api.get(`/channels/${w.text.id}/messages/notanid`, { token: w.owner.token });
    assert.ok([400, 404].includes(res.status), `message id notanid: ${res.status}`);
    assertError(res, res.status);
});

test('an unknown route is 404 and a wrong method 405, both as Discord JSON errors', async () => {
    const nf = await api.get('/no/such/route', { token: w.owner.token });
    assertError(nf, 404, 0);
    assert.equal(nf.body.message, '404: Not Found');
    const na = await api.request('PUT', '/gateway', { token: w.owner.token });
    assertError(na, 405, 0);
});

test('garbage on the socket gets a 400 or a close; a huge request line gets 414', async () => {
    const g = await rawHttp('HELLO THERE\r\n\r\n');
    assert.ok(g === '' || /^HTTP\/1\.[01] 400 /.test(g), `garbage: ${JSON.stringify(g.slice(0, 100))}`);
    const long = await rawHttp(`GET /api/v10/${'a'.repeat(64 << 10)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    assert.ok(long === '' || /^HTTP\/1\.[01] (414|431|400) /.test(long), `long request line: ${JSON.stringify(long.slice(0, 100))}`);
    const bin = await rawHttp(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0xff, 0x00, 0x0d, 0x0a, 0x0d, 0x0a])); // binary, then an empty line
    assert.ok(bin === '' || /^HTTP\/1\.[01] 400 /.test(bin), `binary bytes: ${JSON.stringify(bin.slice(0, 100))}`);
});

test('a burst of 200 parallel requests all succeed', async () => {
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) =>
        (i % 4 === 0 ? api.post(msgs(), { content: `burst ${i}` }, { token: w.member.token })
            : api.get(`/channels/${w.text.id}`, { token: w.member.token }))));
    const bad = results.filter((r) => r.status !== 200);
    assert.deepEqual(bad.map((r) => `${r.status} ${r.text.slice(0, 100)}`), []);
    const list = assertOk(await api.get(`${msgs()}?limit=100`, { token: w.owner.token }));
    assert.equal(list.filter((m) => m.content.startsWith('burst ')).length, 50, 'every posted message stored once');
});

test('after all of that the server is up and answers', async () => {
    assert.equal(srv.exit, null, 'the process is still running');
    const me = assertOk(await api.get('/users/@me', { token: w.owner.token }));
    assert.equal(me.id, w.owner.id);
});
