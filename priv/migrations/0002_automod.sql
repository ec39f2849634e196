-- 0002_automod: auto-moderation rules (apps/automod), one row per rule.
--
-- A rule's lists and objects (trigger_metadata, actions, exempt_roles,
-- exempt_channels) are JSON text, kept exactly as apps/automod normalized them: the
-- guild's hub validates a rule before it is written and compiles it when it is read,
-- so the store checks only their form. Deleting a guild deletes its rules; the
-- creator may be deleted and the rule stays (creator_id has no foreign key). Ids of
-- channels and roles inside the JSON are not foreign keys either: a deleted channel
-- or role left in a rule exempts nothing and alerts nowhere.

CREATE TABLE automod_rules (
    id INTEGER PRIMARY KEY,
    guild_id INTEGER NOT NULL REFERENCES guilds (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    creator_id INTEGER NOT NULL,
    event_type INTEGER NOT NULL,         -- 1: MESSAGE_SEND
    trigger_type INTEGER NOT NULL,       -- 1 KEYWORD, 3 SPAM, 4 KEYWORD_PRESET, 5 MENTION_SPAM
    trigger_metadata TEXT NOT NULL DEFAULT '{}',
    actions TEXT NOT NULL DEFAULT '[]',
    enabled INTEGER NOT NULL DEFAULT 0,
    exempt_roles TEXT NOT NULL DEFAULT '[]',
    exempt_channels TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX automod_rules_guild ON automod_rules (guild_id, id);
