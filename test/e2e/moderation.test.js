// Roles, permissions and moderation through an unmodified discord.js v14 bot, as a
// moderation bot uses them: roles (create with `colors`, edit, reorder, give, take,
// delete), channel permission overwrites (edit, delete, on channel create), timeouts,
// kicks and the audit log (fetchAuditLogs with the reason), bans (create with
// deleteMessageSeconds, fetch, remove), auto-moderation rules (create, fetch, edit,
// delete). What each does to the member is checked over raw REST as the member: a
// hidden channel is 403/50001 to read or post, a timed-out member's post is 403/50013
// until the timeout ends, a banned member's invite accept is 403/40007, a blocked word
// is 400/200000.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const {
    Client, Events, GatewayIntentBits, PermissionFlagsBits, AuditLogEvent, DiscordAPIError,
    AutoModerationRuleEventType, AutoModerationRuleTriggerType, AutoModerationActionType,
} = require('discord.js');
const { startServer, joinGuild, sleep } = require('./lib/server');
const { makeWorld, assertError } = require('./lib/expect');

let srv;
let api;
let w;
let client;
let guild;

// Resolves the arguments of the first `event` on emitter whose args satisfy pred.
function waitEvent(emitter, event, pred = () => true, timeout = 10000) {
    return new Promise((resolve, reject) => {
        const on = (...args) => {
            if (!pred(...args)) return;
            clearTimeout(timer);
            emitter.off(event, on);
            resolve(args);
        };
        const timer = setTimeout(() => {
            emitter.off(event, on);
            reject(new Error(`no ${event} within ${timeout} ms`));
        }, timeout);
        emitter.on(event, on);
    });
}

before(async () => {
    srv = await startServer('moderation');
    api = srv.api;
    w = await makeWorld(api, { bot: true });
    client = new Client({
        intents: [
            GatewayIntentBits.Guilds,
            GatewayIntentBits.GuildMembers,
            GatewayIntentBits.GuildModeration,
            GatewayIntentBits.GuildMessages,
            GatewayIntentBits.MessageContent,
            GatewayIntentBits.AutoModerationConfiguration,
            GatewayIntentBits.AutoModerationExecution,
        ],
        rest: { api: `${srv.base}/api` },
    });
    const ready = waitEvent(client, Events.ClientReady, () => true, 30000);
    await client.login(w.bot.token);
    await ready;
    guild = client.guilds.cache.get(w.guildId);
    assert.ok(guild, 'the bot sees its guild');
});

after(async () => {
    await client?.destroy();
    await srv?.stop();
});

// The member's raw request: {status, body, ...} (lib's Api).
const asMember = (method, route, body) => api.request(method, route, { token: w.member.token, body });

test('roles: create with colors, edit, reorder, give, take, delete', async () => {
    const created = waitEvent(client, Events.GuildRoleCreate, (r) => r.name === 'Helpers');
    const role = await guild.roles.create({
        name: 'Helpers', permissions: [PermissionFlagsBits.KickMembers], colors: { primaryColor: 0x00ff00 },
        hoist: true, reason: 'for the helpers',
    });
    assert.equal(role.name, 'Helpers');
    assert.ok(role.permissions.has(PermissionFlagsBits.KickMembers));
    assert.ok(!role.permissions.has(PermissionFlagsBits.BanMembers));
    assert.equal(role.colors.primaryColor, 0x00ff00);
    assert.equal(role.hoist, true);
    await created;

    const edited = await role.edit({ name: 'Helpers+', mentionable: true });
    assert.equal(edited.name, 'Helpers+');
    assert.equal(edited.mentionable, true);

    const second = await guild.roles.create({ name: 'Second' });
    await guild.roles.setPositions([{ role: role.id, position: 1 }, { role: second.id, position: 2 }]);
    const roles = await api.must('GET', `/guilds/${w.guildId}/roles`, { token: w.member.token });
    assert.equal(roles.find((r) => r.id === role.id).position, 1);
    assert.equal(roles.find((r) => r.id === second.id).position, 2);

    const member = await guild.members.fetch(w.member.id);
    await member.roles.add(role, 'promoted');
    let raw = await api.must('GET', `/guilds/${w.guildId}/members/${w.member.id}`, { token: w.owner.token });
    assert.ok(raw.roles.includes(role.id), `member roles ${raw.roles}`);
    await member.roles.remove(role);
    raw = await api.must('GET', `/guilds/${w.guildId}/members/${w.member.id}`, { token: w.owner.token });
    assert.ok(!raw.roles.includes(role.id));

    await role.delete('done');
    await second.delete();
    assertError(await asMember('GET', `/guilds/${w.guildId}/roles/${role.id}`), 404, 10011);

    const logs = await guild.fetchAuditLogs({ type: AuditLogEvent.RoleCreate, limit: 5 });
    const entry = logs.entries.find((e) => e.targetId === role.id);
    assert.ok(entry, 'the role\'s creation is in the audit log');
    assert.equal(entry.reason, 'for the helpers');
    assert.equal(entry.executorId, w.bot.id);
});

test('permission overwrites: a denied member can neither read nor post there', async () => {
    const channel = await client.channels.fetch(w.text.id);
    await channel.permissionOverwrites.edit(w.member.id, { ViewChannel: false }, { reason: 'hide it' });
    assertError(await asMember('GET', `/channels/${w.text.id}/messages`), 403, 50001);
    assertError(await asMember('POST', `/channels/${w.text.id}/messages`, { content: 'hello?' }), 403, 50001);
    assertError(await asMember('GET', `/channels/${w.text.id}`), 403, 50001);

    await channel.permissionOverwrites.edit(w.member.id, { ViewChannel: null, SendMessages: false });
    assert.equal((await asMember('GET', `/channels/${w.text.id}/messages`)).status, 200);
    assertError(await asMember('POST', `/channels/${w.text.id}/messages`, { content: 'hello?' }), 403, 50013);

    await channel.permissionOverwrites.delete(w.member.id);
    assert.equal((await asMember('POST', `/channels/${w.text.id}/messages`, { content: 'back' })).status, 200);

    const secret = await guild.channels.create({
        name: 'secret',
        permissionOverwrites: [{ id: guild.id, deny: [PermissionFlagsBits.ViewChannel] }],
    });
    assertError(await asMember('GET', `/channels/${secret.id}`), 403, 50001);
    assert.equal((await api.get(`/channels/${secret.id}`, { token: w.owner.token })).status, 200);
});

test('timeout: the member cannot post until it ends', async () => {
    const member = await guild.members.fetch(w.member.id);
    const updated = await member.timeout(2000, 'cool down');
    assert.ok(updated.communicationDisabledUntilTimestamp > Date.now());
    assert.ok(updated.isCommunicationDisabled());
    assertError(await asMember('POST', `/channels/${w.text.id}/messages`, { content: 'let me' }), 403, 50013);
    await sleep(updated.communicationDisabledUntilTimestamp - Date.now() + 300);
    assert.equal((await asMember('POST', `/channels/${w.text.id}/messages`, { content: 'free' })).status, 200);
    const logs = await guild.fetchAuditLogs({ type: AuditLogEvent.MemberUpdate, user: w.bot.id });
    assert.ok(logs.entries.some((e) => e.targetId === w.member.id && e.reason === 'cool down'));
});

test('kick: the member is out, and the audit log has the kick with its reason', async () => {
    const member = await guild.members.fetch(w.member.id);
    await member.kick('bye for now');
    assertError(await asMember('GET', `/guilds/${w.guildId}`), 403, 50001);
    const logs = await guild.fetchAuditLogs({ type: AuditLogEvent.MemberKick, limit: 5 });
    const entry = logs.entries.first();
    assert.ok(entry, 'a kick entry');
    assert.equal(entry.action, AuditLogEvent.MemberKick);
    assert.equal(entry.targetId, w.member.id);
    assert.equal(entry.executorId, w.bot.id);
    assert.equal(entry.reason, 'bye for now');
    assert.equal(entry.executor?.id, w.bot.id, 'the executor is among the log\'s users');
    await joinGuild(api, w.owner, w.member, w.text.id);
});

test('bans: create with deleteMessageSeconds, fetch, the invite refused, remove', async () => {
    const posted = await api.must('POST', `/channels/${w.text.id}/messages`,
        { token: w.member.token, body: { content: 'about to be banned' } });
    const banEvent = waitEvent(client, Events.GuildBanAdd, (b) => b.user.id === w.member.id);
    await guild.bans.create(w.member.id, { deleteMessageSeconds: 600, reason: 'raiding' });
    await banEvent;
    assertError(await api.get(`/channels/${w.text.id}/messages/${posted.id}`, { token: w.owner.token }), 404, 10008);

    const bans = await guild.bans.fetch();
    assert.ok(bans.has(w.member.id));
    assert.equal(bans.get(w.member.id).reason, 'raiding');
    const one = await guild.bans.fetch({ user: w.member.id, force: true });
    assert.equal(one.user.id, w.member.id);

    const inv = await api.must('POST', `/channels/${w.text.id}/invites`, { token: w.owner.token, body: { max_age: 0 } });
    assertError(await asMember('POST', `/invites/${inv.code}`, {}), 403, 40007);

    await guild.bans.remove(w.member.id, 'forgiven');
    await assert.rejects(guild.bans.fetch({ user: w.member.id, force: true }),
        (e) => e instanceof DiscordAPIError && e.code === 10026);
    assert.equal((await asMember('POST', `/invites/${inv.code}`, {})).status, 200);
});

test('auto-moderation: a rule blocks a banned word (400/200000) and the bot is told', async () => {
    const rule = await guild.autoModerationRules.create({
        name: 'No darn',
        eventType: AutoModerationRuleEventType.MessageSend,
        triggerType: AutoModerationRuleTriggerType.Keyword,
        triggerMetadata: { keywordFilter: ['darn'] },
        actions: [{ type: AutoModerationActionType.BlockMessage }],
        enabled: true,
        reason: 'keep it clean',
    });
    assert.equal(rule.name, 'No darn');
    assert.equal(rule.creatorId, w.bot.id);
    assert.deepEqual(rule.triggerMetadata.keywordFilter, ['darn']);

    const execution = waitEvent(client, Events.AutoModerationActionExecution, (x) => x.ruleId === rule.id);
    const res = await asMember('POST', `/channels/${w.text.id}/messages`, { content: 'well, darn' });
    assertError(res, 400, 200000);
    const [x] = await execution;
    assert.equal(x.userId, w.member.id);
    assert.equal(x.matchedKeyword, 'darn');

    const rules = await guild.autoModerationRules.fetch({ force: true });
    assert.ok(rules.has(rule.id));
    const off = await rule.edit({ enabled: false });
    assert.equal(off.enabled, false);
    assert.equal((await asMember('POST', `/channels/${w.text.id}/messages`, { content: 'darn, fine' })).status, 200);
    await rule.delete();
    await assert.rejects(guild.autoModerationRules.fetch({ autoModerationRule: rule.id, force: true }));
});
