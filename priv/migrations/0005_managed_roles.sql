-- 0005_managed_roles: the role a bot gets when it is authorized with permissions.
--
-- As on Discord, adding a bot with a permissions integer creates a role named after
-- it with those permissions, managed (roles.managed = 1, a column since 0001) and
-- tagged with the bot (tags.bot_id in the role object): nobody may delete it or give
-- or take it, and it goes away when the bot leaves the guild. bot_id records whose it
-- is; at most one per bot and guild.

ALTER TABLE roles ADD COLUMN bot_id INTEGER;
CREATE UNIQUE INDEX roles_bot ON roles (guild_id, bot_id) WHERE bot_id IS NOT NULL;
