-- 0004_relationships: friends, friend requests and blocks (apps/store/social.h).
--
-- One row per user and direction, as Discord reports them: a friendship is two rows of
-- type 1; a pending request is an outgoing row (4) of the sender's and an incoming row
-- (3) of the receiver's; a block is one row (2) of the blocker's, and the blocked user
-- keeps no row about the blocker (unless blocking back). since: when the row took its
-- type (Unix ms). Deleting a user deletes both sides of its relationships.

CREATE TABLE relationships (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    other_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type INTEGER NOT NULL CHECK (type BETWEEN 1 AND 4),
    since INTEGER NOT NULL,
    nickname TEXT,
    PRIMARY KEY (user_id, other_id)
) WITHOUT ROWID;
-- The other side: the users table's cascade, and a DM's "blocked either way" check.
CREATE INDEX relationships_other ON relationships (other_id, user_id);
