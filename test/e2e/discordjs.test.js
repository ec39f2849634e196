// The discord.js v14 bot test: an unmodified discord.js Client, pointed at a real
// hearth-server only through `rest: { api: '<base>/api' }` (it then asks /gateway/bot
// for the WebSocket URL), logs in as a bot and does what a bot does: sees its guild,
// receives another user's message with content, replies, edits, deletes, reacts and
// sees reactions, pages 150 messages of history, sees typing and presence, opens a DM,
// and survives a dropped connection by RESUME with no event lost.
//
// The other user acts through raw REST and a raw gateway session (lib/), so what the bot
// sees comes from the server, not from discord.js talking to itself.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Client, Events, GatewayIntentBits, Partials, ChannelType, Status } = require('discord.js');
const { startServer, postMessage, sleep } = require('./lib/server');
const { GatewayClient, OP, INTENTS, gatewayUrl } = require('./lib/gateway');
const { makeWorld } = require('./lib/expect');

let srv;
let api;
let w;
let client;
let human; // the other user's raw gateway session
const debug = []; // discord.js debug lines, for the resume check and for failures
const errors = [];

// Resolves the arguments of the first `event` on emitter whose args satisfy pred.
function waitEvent(emitter, event, pred = () => true, timeout = 10000) {
    return new Promise((resolve, reject) => {
        const on = (...args) => {
            let ok = false;
            try {
                ok = pred(...args);
            } catch {
                ok = false;
            }
            if (ok) {
                clearTimeout(timer);
                emitter.off(event, on);
                resolve(args);
            }
        };
        const timer = setTimeout(() => {
            emitter.off(event, on);
            reject(new Error(`no ${event} within ${timeout} ms; last debug lines:\n${debug.slice(-15).join('\n')}` +
                `${errors.length ? `\nerrors: ${errors.join('; ')}` : ''}`));
        }, timeout);
        emitter.on(event, on);
    });
}

before(async () => {
    srv = await startServer('discordjs');
    api = srv.api;
    w = await makeWorld(api, { bot: true });
    const gw = (await api.must('GET', '/gateway')).url;
    human = await GatewayClient.connect(gatewayUrl(gw));
    await human.identify(w.member.token, INTENTS.ALL);

    client = new Client({
        intents: [
            GatewayIntentBits.Guilds,
            GatewayIntentBits.GuildMembers,
            GatewayIntentBits.GuildMessages,
            GatewayIntentBits.MessageContent,
            GatewayIntentBits.GuildMessageReactions,
            GatewayIntentBits.GuildMessageTyping,
            GatewayIntentBits.GuildPresences,
            GatewayIntentBits.DirectMessages,
        ],
        partials: [Partials.Channel],
        rest: { api: `${srv.base}/api` },
    });
    client.on(Events.Debug, (m) => debug.push(m));
    client.on(Events.Error, (e) => errors.push(String(e)));
    client.on(Events.ShardError, (e) => errors.push(String(e)));
    const ready = waitEvent(client, Events.ClientReady, () => true, 30000);
    let timer;
    await Promise.race([
        client.login(w.bot.token),
        new Promise((resolve, reject) => {
            timer = setTimeout(() => reject(new Error(`client.login did not finish in 30 s:\n${debug.slice(-15).join('\n')}`)), 30000);
        }),
    ]).finally(() => clearTimeout(timer));
    await ready;
});

after(async () => {
    await client?.destroy();
    human?.ws.terminate();
    await srv?.stop();
});

test('logs in as the bot and sees its guild with its channel', () => {
    assert.equal(client.user.id, w.bot.id);
    assert.equal(client.user.bot, true);
    assert.equal(client.user.username, w.bot.user.username);
    const guild = client.guilds.cache.get(w.guildId);
    assert.ok(guild, `client.guilds has the guild: ${[...client.guilds.cache.keys()]}`);
    assert.equal(guild.available, true);
    assert.equal(guild.name, w.guild.name);
    assert.equal(guild.ownerId, w.owner.id);
    const ch = guild.channels.cache.get(w.text.id);
    assert.ok(ch, 'the text channel is cached');
    assert.equal(ch.type, ChannelType.GuildText);
    assert.ok(guild.members.cache.has(w.bot.id), 'the bot is a member');
    assert.equal(client.ws.status, Status.Ready, 'the WebSocketManager is ready');
    assert.ok(debug.some((l) => /Fetched Gateway Information/.test(l)), 'it asked /gateway/bot');
});

test('receives another user\'s message with content, and replies to it', async () => {
    const got = waitEvent(client, Events.MessageCreate, (m) => m.content === 'hello, bot');
    const posted = await postMessage(api, w.member, w.text.id, 'hello, bot');
    const [message] = await got;
    assert.equal(message.id, posted.id);
    assert.equal(message.author.id, w.member.id);
    assert.equal(message.author.bot, false);
    assert.equal(message.channelId, w.text.id);
    assert.equal(message.guildId, w.guildId);
    assert.equal(message.createdTimestamp, Date.parse(posted.timestamp));

    const humanFrom = human.mark();
    const reply = await message.reply('hello, human');
    assert.equal(reply.content, 'hello, human');
    assert.equal(reply.author.id, w.bot.id);
    assert.equal(reply.reference?.messageId, posted.id);
    const raw = await api.must('GET', `/channels/${w.text.id}/messages/${reply.id}`, { token: w.member.token });
    assert.equal(raw.message_reference?.message_id, posted.id, 'stored as a reply');
    const seen = await human.waitForEvent('MESSAGE_CREATE', (d) => d.id === reply.id, { from: humanFrom });
    assert.equal(seen.d.content, 'hello, human');
    assert.equal(seen.d.author.id, w.bot.id);
});

test('edits and deletes its own message', async () => {
    const channel = client.channels.cache.get(w.text.id);
    const sent = await channel.send('first draft');
    const humanFrom = human.mark();
    const edited = await sent.edit('second draft');
    assert.equal(edited.content, 'second draft');
    assert.ok(edited.editedTimestamp, 'editedTimestamp set');
    const up = await human.waitForEvent('MESSAGE_UPDATE', (d) => d.id === sent.id, { from: humanFrom });
    assert.equal(up.d.content, 'second draft');
    const raw = await api.must('GET', `/channels/${w.text.id}/messages/${sent.id}`, { token: w.member.token });
    assert.equal(raw.content, 'second draft');

    const deleted = waitEvent(client, Events.MessageDelete, (m) => m.id === sent.id);
    await sent.delete();
    await deleted;
    await human.waitForEvent('MESSAGE_DELETE', (d) => d.id === sent.id, { from: humanFrom });
    const gone = await api.get(`/channels/${w.text.id}/messages/${sent.id}`, { token: w.member.token });
    assert.equal(gone.status, 404);
    assert.equal(gone.body.code, 10008);
});

test('reacts with a unicode emoji and sees reactions added (MESSAGE_REACTION_ADD)', async () => {
    const got = waitEvent(client, Events.MessageCreate, (m) => m.content === 'react to this');
    const posted = await postMessage(api, w.member, w.text.id, 'react to this');
    const [message] = await got;

    const own = waitEvent(client, Events.MessageReactionAdd, (r, u) => r.message.id === posted.id && u.id === w.bot.id);
    const reaction = await message.react('👍');
    assert.equal(reaction.emoji.name, '👍');
    await own;
    const users = await api.must('GET', `/channels/${w.text.id}/messages/${posted.id}/reactions/${encodeURIComponent('👍')}`, { token: w.member.token });
    assert.deepEqual(users.map((u) => u.id), [w.bot.id]);

    const theirs = waitEvent(client, Events.MessageReactionAdd, (r, u) => r.message.id === posted.id && u.id === w.member.id);
    await api.must('PUT', `/channels/${w.text.id}/messages/${posted.id}/reactions/${encodeURIComponent('🎉')}/@me`, { token: w.member.token });
    const [r] = await theirs;
    assert.equal(r.emoji.name, '🎉');
    assert.equal(r.count, 1);
    assert.equal(message.reactions.cache.get('👍')?.count, 1);
    assert.equal(message.reactions.cache.get('👍')?.me, true);
});

test('pages 150 messages of history in order (limit 100, then before + 50)', async () => {
    const created = waitEvent(client, Events.ChannelCreate, (c) => c.name === 'history');
    const ch = await api.must('POST', `/guilds/${w.guildId}/channels`, { token: w.owner.token, body: { name: 'history', type: 0 } });
    await created;
    const ids = [];
    for (let i = 0; i < 150; i++) ids.push((await postMessage(api, w.owner, ch.id, `history ${i}`)).id);

    const channel = client.channels.cache.get(ch.id);
    const first = await channel.messages.fetch({ limit: 100, cache: false });
    assert.equal(first.size, 100);
    const firstIds = [...first.keys()];
    assert.deepEqual(firstIds, ids.slice(50).reverse(), 'newest first, the newest 100');
    const oldest = firstIds[firstIds.length - 1];
    const second = await channel.messages.fetch({ limit: 50, before: oldest, cache: false });
    assert.equal(second.size, 50);
    const all = [...firstIds, ...second.keys()];
    assert.deepEqual(all, [...ids].reverse(), 'all 150, each once, in order');
    assert.deepEqual([...second.values()].map((m) => m.content), Array.from({ length: 50 }, (_, i) => `history ${49 - i}`));
    const none = await channel.messages.fetch({ limit: 50, before: ids[0], cache: false });
    assert.equal(none.size, 0);
});

test('sees the other user typing', async () => {
    const got = waitEvent(client, Events.TypingStart, (t) => t.user.id === w.member.id);
    await api.must('POST', `/channels/${w.text.id}/typing`, { token: w.member.token });
    const [typing] = await got;
    assert.equal(typing.channel.id, w.text.id);
    assert.equal(typing.guild?.id, w.guildId);
    assert.ok(Math.abs(typing.startedTimestamp - Date.now()) < 10000, `startedTimestamp: ${typing.startedTimestamp}`);
});

test('sees the other user\'s presence change', async () => {
    const got = waitEvent(client, Events.PresenceUpdate, (old, now) => now.userId === w.member.id && now.status === 'idle');
    human.send({ op: OP.PRESENCE_UPDATE, d: { since: null, status: 'idle', afk: false, activities: [{ name: 'baking', type: 0 }] } });
    const [, presence] = await got;
    assert.equal(presence.guild.id, w.guildId);
    assert.equal(presence.activities[0]?.name, 'baking');
    const guild = client.guilds.cache.get(w.guildId);
    assert.equal(guild.presences.cache.get(w.member.id)?.status, 'idle');
});

test('opens a DM with the other user and talks in it', async () => {
    const user = await client.users.fetch(w.member.id);
    assert.equal(user.username, w.member.username);
    const dm = await user.createDM();
    assert.equal(dm.type, ChannelType.DM);
    assert.equal(dm.recipientId, w.member.id);
    const humanFrom = human.mark();
    const sent = await dm.send('a private word');
    const seen = await human.waitForEvent('MESSAGE_CREATE', (d) => d.id === sent.id, { from: humanFrom });
    assert.equal(seen.d.channel_id, dm.id);
    assert.equal(seen.d.content, 'a private word');
    const list = await api.must('GET', `/channels/${dm.id}/messages`, { token: w.member.token });
    assert.equal(list[0].id, sent.id);

    const back = waitEvent(client, Events.MessageCreate, (m) => m.channelId === dm.id && m.author.id === w.member.id);
    await postMessage(api, w.member, dm.id, 'a private answer');
    const [answer] = await back;
    assert.equal(answer.content, 'a private answer');
    assert.equal(answer.channel.type, ChannelType.DM);
});

test('survives a dropped connection by RESUME, with no event lost', async () => {
    const shard = client.ws._ws.strategy.shards.get(0);
    assert.ok(shard?.connection?._socket, 'found the shard\'s socket');
    const identifiesBefore = debug.filter((l) => /Identifying/.test(l)).length;
    const resumed = waitEvent(client, Events.ShardResume, () => true, 20000);
    const contents = Array.from({ length: 10 }, (_, i) => `while away ${i}`);
    const received = [];
    const onMessage = (m) => {
        if (m.channelId === w.text.id && m.content.startsWith('while away ')) received.push(m.content);
    };
    client.on(Events.MessageCreate, onMessage);
    try {
        shard.connection._socket.destroy(); // the network drops: no close frame
        for (const c of contents) await postMessage(api, w.member, w.text.id, c);
        const [, replayed] = await resumed;
        const deadline = Date.now() + 10000;
        while (received.length < contents.length && Date.now() < deadline) await sleep(50);
        assert.deepEqual(received, contents, 'every message, once, in order');
        assert.ok(replayed >= 1, `RESUMED after replaying (${replayed} events)`);
        assert.ok(debug.some((l) => /Resuming session/.test(l)), 'discord.js resumed');
        assert.equal(debug.filter((l) => /Identifying/.test(l)).length, identifiesBefore, 'no fresh IDENTIFY');
        // And it goes on live.
        const live = waitEvent(client, Events.MessageCreate, (m) => m.content === 'back live');
        await postMessage(api, w.member, w.text.id, 'back live');
        await live;
    } finally {
        client.off(Events.MessageCreate, onMessage);
    }
    assert.deepEqual(errors, [], 'no client errors');
});
