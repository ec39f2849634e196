-- 0003_moderation: guild bans and the audit log (apps/store/moderation.h).
--
-- A ban outlives the membership it ends (a banned user is no member) and keeps the
-- reason the moderator gave. Audit log entries are Discord's: who acted (user_id;
-- NULL for the system), on what (target_id: a user, role, channel or rule id), what
-- (action_type, Discord's numbers), the changes and options as JSON text, and the
-- reason from X-Audit-Log-Reason. Entries older than 45 days are pruned as new ones
-- are written, as Discord keeps them. Deleting a guild deletes both.

CREATE TABLE bans (
    guild_id INTEGER NOT NULL REFERENCES guilds (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reason TEXT,
    moderator_id INTEGER,                -- no foreign key: the moderator may be deleted
    created_at INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id)
) WITHOUT ROWID;

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,              -- a snowflake: entries sort by time
    guild_id INTEGER NOT NULL REFERENCES guilds (id) ON DELETE CASCADE,
    user_id INTEGER,
    target_id INTEGER,
    action_type INTEGER NOT NULL,
    changes TEXT,                        -- JSON array of {key, old_value, new_value}, or NULL
    options TEXT,                        -- JSON object, or NULL
    reason TEXT
);
CREATE INDEX audit_log_guild ON audit_log (guild_id, id);
CREATE INDEX audit_log_guild_user ON audit_log (guild_id, user_id, id);
CREATE INDEX audit_log_guild_action ON audit_log (guild_id, action_type, id);
