// The end-to-end harness: starts a real build/opt/hearth-server on a free loopback port
// with a fresh data directory, talks to it over HTTP (fetch), and stops it with SIGTERM,
// checking that it exits 0 within a few seconds (a test of clean shutdown).
//
// It builds nothing: `make TYPE=opt` (or `./forge test e2e`) makes the binary first;
// HEARTH_SERVER=/path/to/hearth-server picks another one. Each server's output goes to
// build/e2e/<test file>-<n>.log so a failure can be read afterwards.
//
// Besides the server, this file has the fixtures every test needs, through the REST API
// only, as a user of Discord's API would do it: registering users, creating a bot and
// authorizing it into a guild, creating guilds and invites.
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const BINARY = process.env.HEARTH_SERVER ? path.resolve(process.env.HEARTH_SERVER) : path.join(ROOT, 'build', 'opt', 'hearth-server');
const LOG_DIR = path.join(ROOT, 'build', 'e2e');
const START_TIMEOUT_MS = 15000;
const REQUEST_TIMEOUT_MS = 20000; // a request the server never answers fails the test, not the run
const STOP_TIMEOUT_MS = 5000;
// The servers' REST rate limits (--rate-limit-multiplier): 100 times Discord's, so tests
// about other things are never slowed by them while every response still carries the
// X-RateLimit-* headers; the rate limit tests ask for 1 (Discord's own) in start().
const RATE_LIMIT_MULTIPLIER = process.env.HEARTH_E2E_RATE_LIMIT_MULTIPLIER || '100';

let serverCount = 0;
// Servers still running: killed if the test process exits without stopping them (a
// crashed test file must not leave servers behind).
const running = new Set();
process.on('exit', () => {
    for (const proc of running) proc.kill('SIGKILL');
});

// A port on 127.0.0.1 that nobody listens on right now.
function freePort() {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.unref();
        srv.on('error', reject);
        srv.listen(0, '127.0.0.1', () => {
            const { port } = srv.address();
            srv.close(() => resolve(port));
        });
    });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// One running hearth-server. Use startServer() to get one.
class HearthServer {
    constructor(dataDir, logPath) {
        this.dataDir = dataDir;
        this.logPath = logPath;
        this.proc = null;
        this.base = null; // http://127.0.0.1:PORT
        this.port = 0;
        this.output = '';
        this.exit = null; // {code, signal} once it has exited
    }

    get api() {
        return new Api(this.base);
    }

    // Starts the binary on port (0: a free one) and waits for its listening line. With
    // viaEnv the settings go in HEARTH_* environment variables instead of flags;
    // rateLimitMultiplier sets --rate-limit-multiplier (1: Discord's limits, 0: none).
    async start(port = 0, { viaEnv = false, rateLimitMultiplier = RATE_LIMIT_MULTIPLIER } = {}) {
        if (!fs.existsSync(BINARY)) {
            throw new Error(`${BINARY} does not exist: build it first (make TYPE=opt)`);
        }
        this.port = port || (await freePort());
        this.exit = null;
        const log = fs.createWriteStream(this.logPath, { flags: 'a' });
        const settings = { bind: '127.0.0.1', port: String(this.port), 'data-dir': this.dataDir,
            'log-level': process.env.HEARTH_E2E_LOG_LEVEL || 'info',
            'rate-limit-multiplier': String(rateLimitMultiplier) };
        const env = { ...process.env };
        let args = [];
        for (const [k, v] of Object.entries(settings)) {
            if (viaEnv) env[`HEARTH_${k.toUpperCase().replace(/-/g, '_')}`] = v;
            else args = [...args, `--${k}`, v];
        }
        log.write(`# ${viaEnv ? 'HEARTH_* environment, ' : ''}${BINARY} ${args.join(' ')}\n`);
        const proc = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
        this.proc = proc;
        running.add(proc);
        const exited = new Promise((resolve) => {
            proc.on('exit', (code, signal) => {
                running.delete(proc);
                this.exit = { code, signal };
                log.end(`# exited: code ${code} signal ${signal}\n`);
                resolve(this.exit);
            });
        });
        this.exited = exited;
        const listening = new Promise((resolve, reject) => {
            let buf = '';
            const onData = (chunk) => {
                const s = chunk.toString('utf8');
                log.write(s);
                this.output = (this.output + s).slice(-20000);
                buf += s;
                const m = /listening on (https?:\/\/[^\s]+)/i.exec(buf);
                if (m) {
                    buf = '';
                    resolve(m[1].replace(/\/+$/, ''));
                }
            };
            proc.stdout.on('data', onData);
            proc.stderr.on('data', onData);
            proc.on('error', reject);
            exited.then((e) => reject(new Error(
                `hearth-server exited before listening (code ${e.code}, signal ${e.signal}):\n${this.tail()}`)));
            setTimeout(() => reject(new Error(
                `hearth-server printed no "listening on" line in ${START_TIMEOUT_MS} ms:\n${this.tail()}`)),
            START_TIMEOUT_MS).unref();
        });
        try {
            const url = await listening;
            // The line names where it listens; with --port 0 that is the real port.
            const u = new URL(url);
            if (u.hostname === '0.0.0.0' || u.hostname === '::' || u.hostname === '[::]') u.hostname = '127.0.0.1';
            this.base = u.origin;
            this.port = Number(u.port);
        } catch (err) {
            if (!this.exit) proc.kill('SIGKILL');
            throw err;
        }
        return this;
    }

    // The last lines the server printed, for error messages.
    tail(lines = 40) {
        return this.output.split('\n').slice(-lines).join('\n') + `\n(full log: ${this.logPath})`;
    }

    // SIGTERM, then waits for the exit. Resolves {code, signal, ms}; kills with SIGKILL
    // and rejects if it did not stop within STOP_TIMEOUT_MS.
    async terminate() {
        if (!this.proc) return null;
        if (this.exit) return { ...this.exit, ms: 0 };
        const t0 = Date.now();
        this.proc.kill('SIGTERM');
        const res = await Promise.race([this.exited, sleep(STOP_TIMEOUT_MS).then(() => null)]);
        if (!res) {
            this.proc.kill('SIGKILL');
            await this.exited;
            throw new Error(`hearth-server did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM:\n${this.tail()}`);
        }
        return { ...res, ms: Date.now() - t0 };
    }

    // kill -9: nothing gets a chance to flush.
    async kill9() {
        if (!this.proc || this.exit) return;
        this.proc.kill('SIGKILL');
        await this.exited;
    }

    // Stops the server (SIGTERM; it must exit 0 within a few seconds: that is checked
    // here and reported as an error) and removes its data directory.
    async stop() {
        let err = null;
        try {
            const res = await this.terminate();
            if (res && (res.code !== 0 || res.signal)) {
                err = new Error(`hearth-server did not shut down cleanly on SIGTERM: code ${res.code}, ` +
                    `signal ${res.signal}:\n${this.tail()}`);
            }
        } catch (e) {
            err = e;
        }
        fs.rmSync(this.dataDir, { recursive: true, force: true });
        if (err) throw err;
    }
}

// Starts a server on a fresh temporary data directory. name labels its log file; opts
// go to HearthServer.start.
async function startServer(name = path.basename(process.argv[1] || 'e2e', '.js'), opts = {}) {
    fs.mkdirSync(LOG_DIR, { recursive: true });
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hearth-e2e-'));
    const logPath = path.join(LOG_DIR, `${name}-${process.pid}-${++serverCount}.log`);
    fs.writeFileSync(logPath, '');
    const srv = new HearthServer(dataDir, logPath);
    // A port taken between freePort() and the bind: try again once on another.
    try {
        await srv.start(0, opts);
    } catch (err) {
        if (!/in use|EADDRINUSE/i.test(String(err.message))) throw err;
        await srv.start(0, opts);
    }
    return srv;
}

// ---- REST ------------------------------------------------------------------------------

// A thin REST client for /api/v10. Every call resolves {status, headers, body, text}:
// body is the parsed JSON (or null), and no status throws, so tests can check errors.
// A 429 is waited out (Retry-After) and retried, as Discord's libraries do, so a server
// with rate limits does not break tests that are about something else.
class Api {
    constructor(base, prefix = '/api/v10') {
        this.base = base;
        this.prefix = prefix;
    }

    // token: a user token (sent raw) or {bot: token} (sent as "Bot <token>").
    async request(method, route, { token, body, raw, headers = {}, prefix = this.prefix } = {}) {
        const h = { ...headers };
        if (token) h.Authorization = typeof token === 'object' ? `Bot ${token.bot}` : token;
        let payload;
        if (raw !== undefined) {
            payload = raw;
        } else if (body !== undefined) {
            payload = JSON.stringify(body);
            h['Content-Type'] = 'application/json';
        }
        for (let attempt = 0; ; attempt++) {
            const res = await fetch(`${this.base}${prefix}${route}`, {
                method, headers: h, body: payload, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
            }).catch((err) => {
                throw new Error(`${method} ${prefix}${route}: ${err.name === 'TimeoutError' ?
                    `no answer within ${REQUEST_TIMEOUT_MS} ms` : `${err.message} (${err.cause?.code || err.cause?.message || 'no cause'})`}`);
            });
            const text = await res.text();
            let json = null;
            if (text.length) {
                try {
                    json = JSON.parse(text);
                } catch {
                    json = null;
                }
            }
            if (res.status === 429 && attempt < 20) {
                const after = Number(json?.retry_after ?? res.headers.get('retry-after') ?? 1);
                await sleep(Math.min(10000, Math.max(50, after * 1000)));
                continue;
            }
            return { status: res.status, headers: res.headers, body: json, text };
        }
    }

    get(route, opts) { return this.request('GET', route, opts); }
    post(route, body, opts = {}) { return this.request('POST', route, { ...opts, body }); }
    patch(route, body, opts = {}) { return this.request('PATCH', route, { ...opts, body }); }
    put(route, body, opts = {}) { return this.request('PUT', route, { ...opts, body }); }
    delete(route, opts) { return this.request('DELETE', route, opts); }

    // Like request but throws unless the status is one of ok; returns the body.
    async must(method, route, opts = {}, ok = [200, 201, 204]) {
        const res = await this.request(method, route, opts);
        if (!ok.includes(res.status)) {
            throw new Error(`${method} ${route} -> ${res.status} ${res.text.slice(0, 500)}`);
        }
        return res.body;
    }
}

// ---- fixtures ------------------------------------------------------------------------------

let uniq = 0;
// A name no other fixture of this process used: prefix + counter + pid.
function uniqueName(prefix) {
    return `${prefix}${++uniq}p${process.pid}`.slice(0, 32);
}

// Registers a user; resolves {id, token, username, email, password, user}.
async function registerUser(api, prefix = 'user') {
    const username = uniqueName(prefix);
    const email = `${username}@example.test`;
    const password = `pw-${username}-correct horse`;
    const reg = await api.must('POST', '/auth/register', { body: { username, email, password } });
    if (!reg || typeof reg.token !== 'string') throw new Error(`register gave no token: ${JSON.stringify(reg)}`);
    const me = await api.must('GET', '/users/@me', { token: reg.token });
    return { id: me.id, token: reg.token, username, email, password, user: me };
}

// Creates an application owned by owner and its bot user. Resolves
// {appId, id (the bot user's id), token (the bot token), app, user}.
async function createBot(api, owner, prefix = 'bot') {
    const name = uniqueName(prefix);
    const app = await api.must('POST', '/applications', { token: owner.token, body: { name } });
    const bot = await api.must('POST', `/applications/${app.id}/bot`, { token: owner.token, body: {} });
    if (!bot || typeof bot.token !== 'string') throw new Error(`bot creation gave no token: ${JSON.stringify(bot)}`);
    const me = await api.must('GET', '/users/@me', { token: { bot: bot.token } });
    return { appId: app.id, id: me.id, token: bot.token, auth: { bot: bot.token }, app, user: me };
}

// Creates a guild owned by owner; resolves {guild, id, channels, text} where text is
// its first text channel.
async function createGuild(api, owner, name = uniqueName('guild')) {
    const guild = await api.must('POST', '/guilds', { token: owner.token, body: { name } });
    const channels = await api.must('GET', `/guilds/${guild.id}/channels`, { token: owner.token });
    const text = channels.find((c) => c.type === 0);
    if (!text) throw new Error(`a new guild has no text channel: ${JSON.stringify(channels)}`);
    return { guild, id: guild.id, channels, text };
}

// Adds a bot to a guild its manager owns, through the OAuth2 authorize endpoint.
async function authorizeBot(api, manager, bot, guildId, permissions = '8') {
    const q = new URLSearchParams({ client_id: bot.appId, scope: 'bot', permissions });
    return api.must('POST', `/oauth2/authorize?${q}`, {
        token: manager.token,
        body: { authorize: true, guild_id: guildId, permissions },
    });
}

// Makes user a member of a guild through an invite of channelId created by inviter.
async function joinGuild(api, inviter, user, channelId) {
    const inv = await api.must('POST', `/channels/${channelId}/invites`, {
        token: inviter.token,
        body: { max_age: 0, max_uses: 0 },
    });
    await api.must('POST', `/invites/${inv.code}`, { token: user.token, body: {} });
    return inv;
}

// Posts a message; resolves the message object.
function postMessage(api, who, channelId, content, extra = {}) {
    return api.must('POST', `/channels/${channelId}/messages`, { token: who.auth || who.token, body: { content, ...extra } });
}

module.exports = {
    ROOT,
    BINARY,
    Api,
    HearthServer,
    startServer,
    freePort,
    sleep,
    uniqueName,
    registerUser,
    createBot,
    createGuild,
    authorizeBot,
    joinGuild,
    postMessage,
};
