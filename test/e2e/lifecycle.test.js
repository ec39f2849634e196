// The server as a process: --help, settings by flag or HEARTH_* environment variable,
// SIGTERM with clients connected (exit 0 within a few seconds, clients told), a restart
// on the same data directory keeping accounts, tokens, guilds and messages, and
// durability: after a 200, kill -9 loses nothing.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const http = require('node:http');
const { BINARY, startServer, registerUser, createGuild, postMessage } = require('./lib/server');
const { GatewayClient, INTENTS, gatewayUrl } = require('./lib/gateway');
const { assertOk } = require('./lib/expect');

test('--help lists --bind, --port, --data-dir and --log-level and exits 0', () => {
    const r = spawnSync(BINARY, ['--help'], { encoding: 'utf8', timeout: 10000 });
    assert.equal(r.status, 0, `exit status ${r.status}: ${r.stderr}`);
    const out = r.stdout + r.stderr;
    for (const flag of ['--bind', '--port', '--data-dir', '--log-level']) assert.ok(out.includes(flag), `--help mentions ${flag}:\n${out}`);
});

test('settings also come from HEARTH_* environment variables', async () => {
    const srv = await startServer('lifecycle-env', { viaEnv: true });
    try {
        const gw = assertOk(await srv.api.get('/gateway'));
        assert.equal(new URL(gw.url).port, String(srv.port));
    } finally {
        await srv.stop();
    }
});

test('SIGTERM with clients connected: gateway clients get RECONNECT, and the server exits 0 within 5 s', async () => {
    const srv = await startServer('lifecycle-term');
    let c;
    const agent = new http.Agent({ keepAlive: true });
    try {
        const api = srv.api;
        const u = await registerUser(api, 'termuser');
        await createGuild(api, u);
        const gw = (await api.must('GET', '/gateway')).url;
        c = await GatewayClient.connect(gatewayUrl(gw));
        await c.identify(u.token, INTENTS.ALL);
        // A keep-alive HTTP connection left idle.
        await new Promise((resolve, reject) => {
            http.get(`${srv.base}/api/v10/gateway`, { agent }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject);
        });

        const res = await srv.terminate();
        assert.equal(res.signal, null, `killed by ${res.signal}`);
        assert.equal(res.code, 0, `exit code ${res.code}:\n${srv.tail()}`);
        assert.ok(res.ms < 5000, `stopped in ${res.ms} ms`);
        const closed = await c.waitClose(2000);
        assert.ok(c.received.some((p) => p.op === 7), `the gateway client got RECONNECT (op 7) before the close (${closed.code})`);
        assert.notEqual(closed.code, 1006, 'a close frame, not a cut connection');
    } finally {
        agent.destroy();
        c?.ws.terminate();
        await srv.stop();
    }
});

test('a restart on the same data directory keeps accounts, tokens, guilds and messages', async () => {
    const srv = await startServer('lifecycle-restart');
    try {
        const api = srv.api;
        const u = await registerUser(api, 'keeper');
        const g = await createGuild(api, u, 'Kept Guild');
        const m = await postMessage(api, u, g.text.id, 'kept message');
        const res = await srv.terminate();
        assert.equal(res.code, 0);
        await srv.start();
        const api2 = srv.api;
        const me = assertOk(await api2.get('/users/@me', { token: u.token }), 200, 'the old token after a restart');
        assert.equal(me.id, u.id);
        const login = assertOk(await api2.post('/auth/login', { login: u.email, password: u.password }));
        assert.equal(typeof login.token, 'string');
        assert.equal(assertOk(await api2.get(`/guilds/${g.id}`, { token: u.token })).name, 'Kept Guild');
        const list = assertOk(await api2.get(`/channels/${g.text.id}/messages`, { token: u.token }));
        assert.deepEqual(list.map((x) => [x.id, x.content]), [[m.id, 'kept message']]);
        // New ids after a restart still sort after the old ones.
        const m2 = await postMessage(api2, u, g.text.id, 'after restart');
        assert.ok(BigInt(m2.id) > BigInt(m.id), 'ids keep growing across restarts');
    } finally {
        await srv.stop();
    }
});

test('durability: every message answered 200 survives kill -9', async () => {
    const srv = await startServer('lifecycle-kill9');
    try {
        const api = srv.api;
        const u = await registerUser(api, 'durable');
        const g = await createGuild(api, u);
        const acked = [];
        // Four writers in parallel; kill -9 the moment the 100th answer arrives.
        let killing = null;
        const writer = async (k) => {
            for (let i = 0; !killing; i++) {
                const res = await api.post(`/channels/${g.text.id}/messages`, { content: `w${k} ${i}` }, { token: u.token }).catch(() => null);
                if (res?.status === 200) {
                    acked.push(res.body.id);
                    if (acked.length >= 100 && !killing) killing = srv.kill9();
                }
            }
        };
        await Promise.all([0, 1, 2, 3].map(writer));
        await killing;
        assert.equal(srv.exit.signal, 'SIGKILL');
        await srv.start();
        const stored = new Set();
        let before = '';
        for (;;) {
            const page = assertOk(await srv.api.get(`/channels/${g.text.id}/messages?limit=100${before}`, { token: u.token }));
            page.forEach((x) => stored.add(x.id));
            if (page.length < 100) break;
            before = `&before=${page[page.length - 1].id}`;
        }
        const lost = acked.filter((id) => !stored.has(id));
        assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged messages lost`);
    } finally {
        await srv.stop();
    }
});
