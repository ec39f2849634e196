-- 0001_init: the first schema of the chat server's store.
--
-- Applied by apps/store/sqlite/migrate.c inside one transaction, then recorded in
-- schema_migrations. Ids are Discord snowflakes in INTEGER columns (they stay below
-- 2^63 until 2084); times are Unix milliseconds; lists kept as written (mentions,
-- embeds, permission overwrites) are JSON text. Deleting a guild cascades to its
-- roles, members, channels, messages, reactions and invites (foreign_keys is on
-- for every connection).

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL COLLATE NOCASE,
    global_name TEXT,
    email TEXT COLLATE NOCASE,
    password_hash TEXT,                 -- Argon2id (crypto_pwhash_str); NULL: no password login
    avatar TEXT,
    bot INTEGER NOT NULL DEFAULT 0,
    flags INTEGER NOT NULL DEFAULT 0,
    verified INTEGER NOT NULL DEFAULT 0,
    locale TEXT NOT NULL DEFAULT 'en-US'
);
CREATE UNIQUE INDEX users_email ON users (email) WHERE email IS NOT NULL;
-- People have unique usernames; bots keep their application's name, which may repeat.
CREATE UNIQUE INDEX users_username ON users (username) WHERE bot = 0;

-- Only a hash of each token is kept (BLAKE2b of the token), so a leaked database
-- holds no usable token.
CREATE TABLE tokens (
    hash BLOB PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX tokens_user ON tokens (user_id);

CREATE TABLE applications (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    icon TEXT,
    owner_id INTEGER NOT NULL REFERENCES users (id),
    bot_user_id INTEGER REFERENCES users (id),
    bot_public INTEGER NOT NULL DEFAULT 1,
    verify_key TEXT NOT NULL
);
CREATE INDEX applications_owner ON applications (owner_id);

CREATE TABLE guilds (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    icon TEXT,
    banner TEXT,
    splash TEXT,
    description TEXT,
    owner_id INTEGER NOT NULL REFERENCES users (id),
    system_channel_id INTEGER,
    afk_channel_id INTEGER,
    afk_timeout INTEGER NOT NULL DEFAULT 300,
    verification_level INTEGER NOT NULL DEFAULT 0,
    default_message_notifications INTEGER NOT NULL DEFAULT 0,
    explicit_content_filter INTEGER NOT NULL DEFAULT 0,
    preferred_locale TEXT NOT NULL DEFAULT 'en-US'
);

CREATE TABLE roles (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL REFERENCES guilds (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    color INTEGER NOT NULL DEFAULT 0,
    hoist INTEGER NOT NULL DEFAULT 0,
    icon TEXT,
    unicode_emoji TEXT,
    position INTEGER NOT NULL DEFAULT 0,
    permissions INTEGER NOT NULL DEFAULT 0,
    managed INTEGER NOT NULL DEFAULT 0,
    mentionable INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX roles_guild ON roles (guild_id, position);

CREATE TABLE members (
    guild_id INTEGER NOT NULL REFERENCES guilds (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    nick TEXT,
    avatar TEXT,
    joined_at INTEGER NOT NULL,
    deaf INTEGER NOT NULL DEFAULT 0,
    mute INTEGER NOT NULL DEFAULT 0,
    flags INTEGER NOT NULL DEFAULT 0,
    communication_disabled_until INTEGER,
    PRIMARY KEY (guild_id, user_id)
) WITHOUT ROWID;
CREATE INDEX members_user ON members (user_id);

CREATE TABLE member_roles (
    guild_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    role_id INTEGER NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (guild_id, user_id, role_id),
    FOREIGN KEY (guild_id, user_id) REFERENCES members (guild_id, user_id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX member_roles_role ON member_roles (role_id);

CREATE TABLE channels (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER REFERENCES guilds (id) ON DELETE CASCADE, -- NULL for DMs
    type INTEGER NOT NULL,
    name TEXT,
    topic TEXT,
    position INTEGER NOT NULL DEFAULT 0,
    parent_id INTEGER,
    nsfw INTEGER NOT NULL DEFAULT 0,
    bitrate INTEGER,
    user_limit INTEGER,
    rate_limit_per_user INTEGER NOT NULL DEFAULT 0,
    permission_overwrites TEXT NOT NULL DEFAULT '[]',
    last_message_id INTEGER,
    owner_id INTEGER,                    -- group DMs
    icon TEXT,                           -- group DMs
    flags INTEGER NOT NULL DEFAULT 0,
    dm_low INTEGER,                      -- DMs: the two users, smaller id first
    dm_high INTEGER
);
CREATE INDEX channels_guild ON channels (guild_id);
CREATE UNIQUE INDEX channels_dm ON channels (dm_low, dm_high) WHERE type = 1;

CREATE TABLE channel_recipients (
    channel_id INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (channel_id, user_id)
) WITHOUT ROWID;
CREATE INDEX channel_recipients_user ON channel_recipients (user_id);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    channel_id INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    author_id INTEGER NOT NULL REFERENCES users (id),
    content TEXT NOT NULL DEFAULT '',
    type INTEGER NOT NULL DEFAULT 0,
    flags INTEGER NOT NULL DEFAULT 0,
    tts INTEGER NOT NULL DEFAULT 0,
    edited_at INTEGER,
    mention_everyone INTEGER NOT NULL DEFAULT 0,
    mentions TEXT,                       -- JSON array of user id strings, or NULL
    mention_roles TEXT,                  -- JSON array of role id strings, or NULL
    nonce TEXT,
    pinned INTEGER NOT NULL DEFAULT 0,
    ref_message_id INTEGER,              -- message_reference of a reply
    ref_channel_id INTEGER,
    ref_guild_id INTEGER,
    embeds TEXT,                         -- JSON array, or NULL for []
    components TEXT                      -- JSON array, or NULL for []
);
CREATE INDEX messages_channel ON messages (channel_id, id);
CREATE INDEX messages_nonce ON messages (channel_id, author_id, nonce) WHERE nonce IS NOT NULL;

-- One row per (message, emoji, user). The rowid orders emoji by their first use.
CREATE TABLE reactions (
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    emoji TEXT NOT NULL,                 -- identity: the custom emoji's id, or the unicode name
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    emoji_id INTEGER,
    emoji_name TEXT,
    animated INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX reactions_key ON reactions (message_id, emoji, user_id);

CREATE TABLE invites (
    code TEXT PRIMARY KEY,
    guild_id INTEGER NOT NULL REFERENCES guilds (id) ON DELETE CASCADE,
    channel_id INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    inviter_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    max_age INTEGER NOT NULL,            -- seconds; 0: never expires
    max_uses INTEGER NOT NULL,           -- 0: unlimited
    uses INTEGER NOT NULL DEFAULT 0,
    temporary INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX invites_guild ON invites (guild_id);
CREATE INDEX invites_channel ON invites (channel_id);

CREATE TABLE presences (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    activities TEXT NOT NULL DEFAULT '[]',
    last_seen INTEGER NOT NULL
);
