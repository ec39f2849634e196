// REST, messages in a guild text channel: create (limits, nonce with enforce_nonce,
// replies, mentions), get, list and page (before/after/around, limit 1-100, newest
// first), edit, delete, bulk delete; reactions (unicode and custom emoji as Discord
// encodes them in URLs: put/delete own, delete another's, list users, delete all);
// typing.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, postMessage } = require('./lib/server');
const { assertSnowflake, assertTimestamp, assertError, assertOk, makeWorld } = require('./lib/expect');

let srv;
let api;
let w; // one shared guild for the tests that do not change its membership

before(async () => {
    srv = await startServer('rest-messages');
    api = srv.api;
    w = await makeWorld(api);
});
after(() => srv?.stop());

// A message object as Discord sends it.
function assertMessage(m, { channelId, author, content }) {
    assertSnowflake(m.id, 'message id');
    assert.equal(m.channel_id, channelId);
    assert.equal(m.author?.id, author.id, 'author.id');
    assert.equal(m.author.username, author.username, 'author.username');
    assert.equal(m.content, content);
    assertTimestamp(m.timestamp, 'timestamp');
    assert.ok(Math.abs(Date.parse(m.timestamp) - Date.now()) < 60000, `timestamp is now: ${m.timestamp}`);
    assert.equal(m.edited_timestamp, null);
    assert.equal(m.type, 0);
    assert.equal(m.tts, false);
    assert.equal(m.pinned, false);
    assert.equal(m.mention_everyone, false);
    for (const k of ['mentions', 'mention_roles', 'attachments', 'embeds']) assert.ok(Array.isArray(m[k]), `${k} is an array`);
}

const enc = encodeURIComponent;

test('a posted message comes back whole, and others read it', async () => {
    const res = await api.post(`/channels/${w.text.id}/messages`, { content: 'hello, hearth' }, { token: w.member.token });
    const m = assertOk(res, 200, 'create message');
    assertMessage(m, { channelId: w.text.id, author: w.member, content: 'hello, hearth' });
    if (m.guild_id !== undefined) assert.equal(m.guild_id, w.guildId);
    const got = assertOk(await api.get(`/channels/${w.text.id}/messages/${m.id}`, { token: w.owner.token }));
    assertMessage(got, { channelId: w.text.id, author: w.member, content: 'hello, hearth' });
    const list = assertOk(await api.get(`/channels/${w.text.id}/messages?limit=1`, { token: w.owner.token }));
    assert.deepEqual(list.map((x) => x.id), [m.id], 'the newest message is first');
});

test('ids grow with each message and unicode content survives', async () => {
    const text = 'ünïcødé ✓ 🔥 — 中文 — \u{1F3F3}\u{FE0F}\u{200D}\u{1F308} "quotes" \\ back\nslash';
    const a = await postMessage(api, w.owner, w.text.id, text);
    const b = await postMessage(api, w.owner, w.text.id, 'second');
    assert.equal(a.content, text);
    assert.ok(BigInt(b.id) > BigInt(a.id), 'a later message has a larger id');
    assert.equal(assertOk(await api.get(`/channels/${w.text.id}/messages/${a.id}`, { token: w.member.token })).content, text);
});

test('content: 2000 characters pass, 2001 is Invalid Form Body, empty is Cannot send an empty message', async () => {
    const ok = await postMessage(api, w.owner, w.text.id, 'x'.repeat(2000));
    assert.equal(ok.content.length, 2000);
    // 2000 characters that are not bytes: the limit counts characters.
    const wide = await postMessage(api, w.owner, w.text.id, 'é'.repeat(2000));
    assert.equal(wide.content, 'é'.repeat(2000));
    const long = await api.post(`/channels/${w.text.id}/messages`, { content: 'x'.repeat(2001) }, { token: w.owner.token });
    assertError(long, 400, 50035);
    assert.ok(long.body.errors.content, `errors names content: ${long.text}`);
    assertError(await api.post(`/channels/${w.text.id}/messages`, { content: '' }, { token: w.owner.token }), 400, 50006);
    assertError(await api.post(`/channels/${w.text.id}/messages`, {}, { token: w.owner.token }), 400, 50006);
});

test('enforce_nonce: the same nonce twice gives back the first message, not a second one', async () => {
    const nonce = `n${Date.now()}`;
    const a = await postMessage(api, w.member, w.text.id, 'once', { nonce, enforce_nonce: true });
    const b = await postMessage(api, w.member, w.text.id, 'once', { nonce, enforce_nonce: true });
    assert.equal(b.id, a.id, 'the retry is the same message');
    assert.equal(String(a.nonce), nonce, 'the nonce is echoed');
    const list = assertOk(await api.get(`/channels/${w.text.id}/messages?limit=5`, { token: w.member.token }));
    assert.equal(list.filter((m) => m.content === 'once').length, 1, 'one message stored');

    const c = await postMessage(api, w.member, w.text.id, 'twice', { nonce: `${nonce}x` });
    const d = await postMessage(api, w.member, w.text.id, 'twice', { nonce: `${nonce}x` });
    assert.notEqual(c.id, d.id, 'without enforce_nonce a nonce does not dedupe');
});

test('a reply carries message_reference and the referenced message', async () => {
    const orig = await postMessage(api, w.owner, w.text.id, 'question?');
    const reply = await postMessage(api, w.member, w.text.id, 'answer!', { message_reference: { message_id: orig.id } });
    assert.equal(reply.type, 19, 'a reply is type 19');
    assert.equal(reply.message_reference?.message_id, orig.id);
    assert.equal(reply.message_reference.channel_id, w.text.id);
    assert.equal(reply.referenced_message?.id, orig.id);
    assert.equal(reply.referenced_message.content, 'question?');
    const got = assertOk(await api.get(`/channels/${w.text.id}/messages/${reply.id}`, { token: w.owner.token }));
    assert.equal(got.message_reference?.message_id, orig.id);
    const bad = await api.post(`/channels/${w.text.id}/messages`,
        { content: 'to nothing', message_reference: { message_id: '123456789012345678' } }, { token: w.member.token });
    assertError(bad, 400, 50035, 'a reply to an unknown message');
});

test('mentions: <@id> and <@!id> fill mentions, @everyone sets mention_everyone', async () => {
    const m = await postMessage(api, w.owner, w.text.id, `hi <@${w.member.id}> and <@!${w.owner.id}>`);
    assert.deepEqual(m.mentions.map((u) => u.id).sort(), [w.member.id, w.owner.id].sort());
    const u = m.mentions.find((x) => x.id === w.member.id);
    assert.equal(u.username, w.member.username);
    assert.equal(m.mention_everyone, false);
    const e = await postMessage(api, w.owner, w.text.id, '@everyone meeting now');
    assert.equal(e.mention_everyone, true);
    const plain = await postMessage(api, w.owner, w.text.id, 'no mention <@notanid> @ everyone');
    assert.deepEqual(plain.mentions, []);
    assert.equal(plain.mention_everyone, false);
});

test('mentions: <@&role> of a mentionable role fills mention_roles', async () => {
    const role = assertOk(await api.post(`/guilds/${w.guildId}/roles`, { name: 'helpers', mentionable: true }, { token: w.owner.token }), [200, 201]);
    const m = await postMessage(api, w.member, w.text.id, `paging <@&${role.id}>`);
    assert.deepEqual(m.mention_roles, [role.id]);
    const none = await postMessage(api, w.member, w.text.id, '<@&123456789012345678> is no role here');
    assert.deepEqual(none.mention_roles, []);
});

test('an unknown message is 404 Unknown Message', async () => {
    assertError(await api.get(`/channels/${w.text.id}/messages/123456789012345678`, { token: w.owner.token }), 404, 10008);
    assertError(await api.patch(`/channels/${w.text.id}/messages/123456789012345678`, { content: 'x' }, { token: w.owner.token }), 404, 10008);
    assertError(await api.delete(`/channels/${w.text.id}/messages/123456789012345678`, { token: w.owner.token }), 404, 10008);
});

test('history: 150 messages page back in order with limit, before, after and around', async () => {
    const g = await makeWorld(api);
    const ids = [];
    for (let i = 0; i < 150; i++) ids.push((await postMessage(api, g.owner, g.text.id, `m${i}`)).id);
    const get = async (q) => assertOk(await api.get(`/channels/${g.text.id}/messages?${q}`, { token: g.member.token }), 200, q);

    const page1 = await get('limit=100');
    assert.equal(page1.length, 100);
    assert.deepEqual(page1.map((m) => m.content), Array.from({ length: 100 }, (_, i) => `m${149 - i}`), 'the newest 100, newest first');
    assert.deepEqual(page1.map((m) => m.id), ids.slice(50).reverse());
    const page2 = await get(`before=${page1[99].id}&limit=100`);
    assert.equal(page2.length, 50, 'the older 50, and nothing past the first message');
    assert.deepEqual([...page1, ...page2].map((m) => m.id), [...ids].reverse(), 'every message once, newest first');
    assert.deepEqual(await get(`before=${ids[0]}&limit=10`), [], 'nothing before the first message');

    const def = await get('');
    assert.equal(def.length, 50, 'the default limit is 50');
    assert.equal(def[0].id, ids[149]);

    const afterPage = await get(`after=${ids[10]}&limit=5`);
    assert.deepEqual(afterPage.map((m) => m.id).sort(), ids.slice(11, 16).sort(), 'after: the 5 right after');
    assert.deepEqual(afterPage.map((m) => m.id), ids.slice(11, 16).reverse(), 'after: newest first');

    const around = await get(`around=${ids[75]}&limit=5`);
    assert.deepEqual(around.map((m) => m.id), ids.slice(73, 78).reverse(), 'around: the message and its neighbours');

    assertError(await api.get(`/channels/${g.text.id}/messages?limit=101`, { token: g.member.token }), 400, 50035, 'limit=101');
    assertError(await api.get(`/channels/${g.text.id}/messages?limit=0`, { token: g.member.token }), 400, 50035, 'limit=0');
    assertError(await api.get(`/channels/${g.text.id}/messages?limit=abc`, { token: g.member.token }), 400, 50035, 'limit=abc');
});

test('edit: the author changes content and edited_timestamp is set; others get 50005', async () => {
    const m = await postMessage(api, w.member, w.text.id, 'draft');
    const e = assertOk(await api.patch(`/channels/${w.text.id}/messages/${m.id}`, { content: 'final' }, { token: w.member.token }));
    assert.equal(e.id, m.id);
    assert.equal(e.content, 'final');
    assertTimestamp(e.edited_timestamp, 'edited_timestamp');
    assert.equal(e.timestamp, m.timestamp, 'the creation timestamp stays');
    const got = assertOk(await api.get(`/channels/${w.text.id}/messages/${m.id}`, { token: w.owner.token }));
    assert.equal(got.content, 'final');
    assert.equal(got.edited_timestamp, e.edited_timestamp);

    assertError(await api.patch(`/channels/${w.text.id}/messages/${m.id}`, { content: 'hijack' }, { token: w.owner.token }), 403, 50005);
    assertError(await api.patch(`/channels/${w.text.id}/messages/${m.id}`, { content: 'y'.repeat(2001) }, { token: w.member.token }), 400, 50035);
    assert.equal(assertOk(await api.get(`/channels/${w.text.id}/messages/${m.id}`, { token: w.owner.token })).content, 'final');
});

test('delete: the author (204) or a manager may; a plain member may not delete another\'s', async () => {
    const own = await postMessage(api, w.member, w.text.id, 'mine');
    assertOk(await api.delete(`/channels/${w.text.id}/messages/${own.id}`, { token: w.member.token }), 204);
    assertError(await api.get(`/channels/${w.text.id}/messages/${own.id}`, { token: w.member.token }), 404, 10008);

    const owners = await postMessage(api, w.owner, w.text.id, 'owner says');
    assertError(await api.delete(`/channels/${w.text.id}/messages/${owners.id}`, { token: w.member.token }), 403, 50013);
    assertOk(await api.get(`/channels/${w.text.id}/messages/${owners.id}`, { token: w.member.token }));

    const members = await postMessage(api, w.member, w.text.id, 'moderate me');
    assertOk(await api.delete(`/channels/${w.text.id}/messages/${members.id}`, { token: w.owner.token }), 204);
    assertError(await api.get(`/channels/${w.text.id}/messages/${members.id}`, { token: w.owner.token }), 404, 10008);
});

test('bulk delete removes exactly the listed messages; it needs 2 to 100 ids and a manager', async () => {
    const ms = [];
    for (let i = 0; i < 5; i++) ms.push(await postMessage(api, w.member, w.text.id, `bulk${i}`));
    const route = `/channels/${w.text.id}/messages/bulk-delete`;
    assertError(await api.post(route, { messages: [ms[0].id, ms[1].id] }, { token: w.member.token }), 403, 50013);
    assertError(await api.post(route, { messages: [ms[0].id] }, { token: w.owner.token }), 400, 50035, 'one id');
    const many = Array.from({ length: 101 }, (_, i) => String(BigInt(ms[0].id) + BigInt(i)));
    assertError(await api.post(route, { messages: many }, { token: w.owner.token }), 400, 50035, '101 ids');
    assertOk(await api.post(route, { messages: [ms[0].id, ms[2].id, ms[4].id] }, { token: w.owner.token }), 204);
    for (const i of [0, 2, 4]) assertError(await api.get(`/channels/${w.text.id}/messages/${ms[i].id}`, { token: w.owner.token }), 404, 10008);
    for (const i of [1, 3]) assertOk(await api.get(`/channels/${w.text.id}/messages/${ms[i].id}`, { token: w.owner.token }));
});

test('reactions: unicode emoji put, counted, listed and removed', async () => {
    const m = await postMessage(api, w.owner, w.text.id, 'react to me');
    const base = `/channels/${w.text.id}/messages/${m.id}/reactions`;
    const thumbs = '👍';
    const heart = '❤️'; // U+2764 U+FE0F: the variation selector is part of the name

    assertOk(await api.put(`${base}/${enc(thumbs)}/@me`, undefined, { token: w.member.token }), 204);
    assertOk(await api.put(`${base}/${enc(thumbs)}/@me`, undefined, { token: w.member.token }), 204); // again: no change
    assertOk(await api.put(`${base}/${enc(thumbs)}/@me`, undefined, { token: w.owner.token }), 204);
    assertOk(await api.put(`${base}/${enc(heart)}/@me`, undefined, { token: w.member.token }), 204);

    const seen = assertOk(await api.get(`/channels/${w.text.id}/messages/${m.id}`, { token: w.owner.token }));
    const r = Object.fromEntries((seen.reactions || []).map((x) => [x.emoji.name, x]));
    assert.equal(r[thumbs]?.count, 2, `👍 counted twice: ${JSON.stringify(seen.reactions)}`);
    assert.equal(r[thumbs].me, true, 'me: the owner reacted');
    assert.equal(r[thumbs].emoji.id, null, 'a unicode emoji has id null');
    assert.equal(r[heart]?.count, 1, `❤️ with its variation selector: ${JSON.stringify(seen.reactions)}`);
    assert.equal(r[heart].me, false);

    const users = assertOk(await api.get(`${base}/${enc(thumbs)}`, { token: w.owner.token }));
    assert.deepEqual(users.map((u) => u.id).sort(), [w.owner.id, w.member.id].sort());

    assertOk(await api.delete(`${base}/${enc(thumbs)}/@me`, { token: w.owner.token }), 204);
    const users2 = assertOk(await api.get(`${base}/${enc(thumbs)}`, { token: w.owner.token }));
    assert.deepEqual(users2.map((u) => u.id), [w.member.id]);

    assertError(await api.delete(`${base}/${enc(heart)}/${w.owner.id}`, { token: w.member.token }), 403, 50013, 'a member removing another\'s reaction');
    assertOk(await api.delete(`${base}/${enc(thumbs)}/${w.member.id}`, { token: w.owner.token }), 204);
    assert.deepEqual(assertOk(await api.get(`${base}/${enc(thumbs)}`, { token: w.owner.token })), []);

    assertError(await api.delete(base, { token: w.member.token }), 403, 50013, 'a member removing all reactions');
    assertOk(await api.delete(base, { token: w.owner.token }), 204);
    const bare = assertOk(await api.get(`/channels/${w.text.id}/messages/${m.id}`, { token: w.owner.token }));
    assert.ok(!bare.reactions || bare.reactions.length === 0, `no reactions left: ${JSON.stringify(bare.reactions)}`);
});

test('reactions: a custom emoji is addressed as name:id', async () => {
    const m = await postMessage(api, w.owner, w.text.id, 'custom');
    const base = `/channels/${w.text.id}/messages/${m.id}/reactions`;
    const res = await api.put(`${base}/${enc('hearth:123456789012345678')}/@me`, undefined, { token: w.member.token });
    if (res.status === 204) {
        const seen = assertOk(await api.get(`/channels/${w.text.id}/messages/${m.id}`, { token: w.owner.token }));
        assert.deepEqual(seen.reactions?.map((x) => [x.emoji.id, x.emoji.name, x.count]), [['123456789012345678', 'hearth', 1]]);
    } else {
        assertError(res, 400, 10014, 'an emoji the server does not know is Unknown Emoji');
    }
});

test('reactions on an unknown message are 10008', async () => {
    const base = `/channels/${w.text.id}/messages/123456789012345678/reactions`;
    assertError(await api.put(`${base}/${enc('👍')}/@me`, undefined, { token: w.member.token }), 404, 10008);
});

test('a reaction that is no emoji at all is 400 Unknown Emoji', async () => {
    const m = await postMessage(api, w.owner, w.text.id, 'emoji test');
    const res = await api.put(`/channels/${w.text.id}/messages/${m.id}/reactions/${enc('notanemoji')}/@me`, undefined, { token: w.member.token });
    assertError(res, 400, 10014);
});

test('typing: 204 for a member; an outsider has no access', async () => {
    assertOk(await api.post(`/channels/${w.text.id}/typing`, undefined, { token: w.member.token }), 204);
    const res = await api.post(`/channels/${w.text.id}/typing`, undefined, { token: w.outsider.token });
    assert.ok(res.status === 403 || res.status === 404, `outsider typing: ${res.status} ${res.text}`);
    assertError(res, res.status);
});
