/* Permission tests (apps/perm): the flags and their names, the decimal form, one
 * hand-written case per rule of the computation and the hierarchy, the JSON builders,
 * and the whole matrix: random guilds, roles, channels, overwrites and members (seeded by
 * test_seed()) checked against a deliberately plain model of Discord's documented
 * algorithm written here, straight from the docs' pseudo-code and working on the JSON
 * itself, for perm_channel, perm_base and the cache (also under random changes). */
#include "task.h"

#include "perm/perm.h"
#include "store/store.h"

#include <stdio.h>
#include <time.h>

/* ---- flags and names ---------------------------------------------------------------------- */

TEST_IMPL(perm_flags)
{
    uint64_t all = 0, bit;
    size_t i, j;

    /* Spot checks against the decimal values Discord's docs and discord.js use. */
    ASSERT_EQ(PERM_CREATE_INSTANT_INVITE, 1);
    ASSERT_EQ(PERM_ADMINISTRATOR, 8);
    ASSERT_EQ(PERM_VIEW_CHANNEL, 1024);
    ASSERT_EQ(PERM_SEND_MESSAGES, 2048);
    ASSERT_EQ(PERM_MANAGE_ROLES, 268435456);
    ASSERT_EQ(PERM_USE_APPLICATION_COMMANDS, 2147483648ULL);
    ASSERT(PERM_MODERATE_MEMBERS == 1099511627776ULL);
    ASSERT(PERM_SEND_VOICE_MESSAGES == 70368744177664ULL);
    ASSERT(PERM_SET_VOICE_CHANNEL_STATUS == 281474976710656ULL);
    ASSERT(PERM_PIN_MESSAGES == 2251799813685248ULL);
    ASSERT(PERM_BYPASS_SLOWMODE == 4503599627370496ULL);

    /* 52 flags: bits 0..52 but 47, each once, in bit order, names round-trip. */
    ASSERT_EQ(perm_names_count, 52);
    for (i = 0; i < perm_names_count; i++) {
        ASSERT_EQ(__builtin_popcountll(perm_names[i].bit), 1);
        ASSERT((all & perm_names[i].bit) == 0);
        all |= perm_names[i].bit;
        if (i > 0)
            ASSERT(perm_names[i].bit > perm_names[i - 1].bit);
        ASSERT_STR_EQ(perm_name_of(perm_names[i].bit), perm_names[i].name);
        ASSERT_OK(perm_bit_of(perm_names[i].name, &bit));
        ASSERT(bit == perm_names[i].bit);
        for (j = 0; j < i; j++)
            ASSERT(strcmp(perm_names[i].name, perm_names[j].name) != 0);
    }
    ASSERT(all == PERM_ALL);
    ASSERT((PERM_ALL & (UINT64_C(1) << 47)) == 0);
    ASSERT_NULL(perm_name_of(UINT64_C(1) << 47));
    ASSERT_NULL(perm_name_of(PERM_VIEW_CHANNEL | PERM_SEND_MESSAGES));
    ASSERT_EQ(perm_bit_of("view_channel", &bit), -1);
    ASSERT_EQ(perm_bit_of("", &bit), -1);
    ASSERT_OK(perm_bit_of("MANAGE_EMOJIS_AND_STICKERS", &bit));
    ASSERT(bit == PERM_MANAGE_GUILD_EXPRESSIONS);
    ASSERT_STR_EQ(perm_name_of(PERM_MODERATE_MEMBERS), "MODERATE_MEMBERS");
    /* The store's @everyone default is made of real flags only. */
    ASSERT((STORE_PERM_EVERYONE_DEFAULT & ~PERM_ALL) == 0);
    return 0;
}

TEST_IMPL(perm_parse_format)
{
    char buf[PERM_STR_SIZE], names[256];
    uint64_t v = 7;
    json_t *j;

    ASSERT_OK(perm_parse("0", &v));
    ASSERT_EQ(v, 0);
    ASSERT_OK(perm_parse("2112", &v));
    ASSERT_EQ(v, PERM_ADD_REACTIONS | PERM_SEND_MESSAGES);
    ASSERT_OK(perm_parse("18446744073709551615", &v));
    ASSERT(v == UINT64_MAX);
    ASSERT_OK(perm_parse("000000000000000000000001024", &v));
    ASSERT_EQ(v, 1024);
    ASSERT_OK(perm_parse("4503599627370496", &v));
    ASSERT(v == PERM_BYPASS_SLOWMODE);

    /* Rejected, and *out left alone. */
    v = 99;
    ASSERT_EQ(perm_parse("", &v), -1);
    ASSERT_EQ(perm_parse(NULL, &v), -1);
    ASSERT_EQ(perm_parse("-1", &v), -1);
    ASSERT_EQ(perm_parse("+1", &v), -1);
    ASSERT_EQ(perm_parse(" 1", &v), -1);
    ASSERT_EQ(perm_parse("1 ", &v), -1);
    ASSERT_EQ(perm_parse("1a", &v), -1);
    ASSERT_EQ(perm_parse("0x10", &v), -1);
    ASSERT_EQ(perm_parse("1.0", &v), -1);
    ASSERT_EQ(perm_parse("18446744073709551616", &v), -1);  /* 2^64 */
    ASSERT_EQ(perm_parse("99999999999999999999", &v), -1);  /* 20 digits, too big */
    ASSERT_EQ(perm_parse("184467440737095516150", &v), -1); /* 21 digits */
    ASSERT_EQ(v, 99);

    ASSERT_STR_EQ(perm_format(0, buf), "0");
    ASSERT_STR_EQ(perm_format(PERM_ALL, buf), "8866461766385663");
    ASSERT_STR_EQ(perm_format(UINT64_MAX, buf), "18446744073709551615");
    ASSERT_OK(perm_parse(perm_format(PERM_MODERATE_MEMBERS | 5, buf), &v));
    ASSERT(v == (PERM_MODERATE_MEMBERS | 5));

    j = json_string("1024");
    ASSERT_OK(perm_parse_json(j, &v));
    ASSERT_EQ(v, 1024);
    json_decref(j);
    j = json_integer(2048);
    ASSERT_OK(perm_parse_json(j, &v));
    ASSERT_EQ(v, 2048);
    json_decref(j);
    j = json_integer(-1);
    ASSERT_EQ(perm_parse_json(j, &v), -1);
    json_decref(j);
    j = json_real(1.0);
    ASSERT_EQ(perm_parse_json(j, &v), -1);
    json_decref(j);
    ASSERT_EQ(perm_parse_json(NULL, &v), -1);

    ASSERT_EQ(perm_format_names(0, names, sizeof(names)), 0);
    ASSERT_STR_EQ(names, "");
    ASSERT_EQ(perm_format_names(PERM_VIEW_CHANNEL | PERM_SEND_MESSAGES, names, sizeof(names)),
              strlen("VIEW_CHANNEL|SEND_MESSAGES"));
    ASSERT_STR_EQ(names, "VIEW_CHANNEL|SEND_MESSAGES");
    perm_format_names(PERM_KICK_MEMBERS | (UINT64_C(1) << 47), names, sizeof(names));
    ASSERT_STR_EQ(names, "KICK_MEMBERS|1<<47");
    /* Cut at the buffer, length still the whole. */
    ASSERT_EQ(perm_format_names(PERM_VIEW_CHANNEL | PERM_SEND_MESSAGES, names, 14),
              strlen("VIEW_CHANNEL|SEND_MESSAGES"));
    ASSERT_STR_EQ(names, "VIEW_CHANNEL");
    return 0;
}

/* ---- hand-written cases ------------------------------------------------------------------- */

#define G 1000 /* guild id = @everyone's role id */
#define OWNER 1
#define NOW 1700000000000LL

/* A small guild for the rule tests: @everyone (position 0), roles 11 (position 1),
 * 12 (position 2), 13 (position 3, administrator), 14 (position 2, older than 12). */
static perm_role_t rules_roles[5];
static perm_guild_t rules_guild;

static void rules_setup(uint64_t everyone)
{
    rules_roles[0] = (perm_role_t){G, 0, everyone};
    rules_roles[1] = (perm_role_t){11, 1, PERM_SEND_MESSAGES | PERM_KICK_MEMBERS};
    rules_roles[2] = (perm_role_t){12, 2, PERM_MANAGE_MESSAGES};
    rules_roles[3] = (perm_role_t){13, 3, PERM_ADMINISTRATOR};
    rules_roles[4] = (perm_role_t){10, 2, 0};
    rules_guild = (perm_guild_t){G, OWNER, rules_roles, 5};
    perm_roles_sort(rules_roles, 5);
}

TEST_IMPL(perm_rules_base)
{
    uint64_t r11[] = {11}, r12[] = {11, 12}, r13[] = {13}, unknown[] = {999};
    perm_member_t m = {50, NULL, 0, 0};

    rules_setup(PERM_VIEW_CHANNEL | PERM_READ_MESSAGE_HISTORY);
    /* @everyone alone, then OR-ed with each role; unknown role ids count for nothing. */
    ASSERT(perm_base(&rules_guild, &m, NOW) == (PERM_VIEW_CHANNEL | PERM_READ_MESSAGE_HISTORY));
    m.roles = r11, m.nroles = 1;
    ASSERT(perm_base(&rules_guild, &m, NOW) == (PERM_VIEW_CHANNEL | PERM_READ_MESSAGE_HISTORY |
                                                PERM_SEND_MESSAGES | PERM_KICK_MEMBERS));
    m.roles = r12, m.nroles = 2;
    ASSERT(perm_base(&rules_guild, &m, NOW) & PERM_MANAGE_MESSAGES);
    m.roles = unknown, m.nroles = 1;
    ASSERT(perm_base(&rules_guild, &m, NOW) == (PERM_VIEW_CHANNEL | PERM_READ_MESSAGE_HISTORY));
    /* Administrator: everything. */
    m.roles = r13, m.nroles = 1;
    ASSERT(perm_base(&rules_guild, &m, NOW) == PERM_ALL);
    /* Owner: everything, with no roles at all, even if @everyone has nothing. */
    rules_setup(0);
    m = (perm_member_t){OWNER, NULL, 0, 0};
    ASSERT(perm_base(&rules_guild, &m, NOW) == PERM_ALL);
    /* A guild without an @everyone role: nothing from it. */
    rules_guild.roles++; /* sorted by id 10, 11, 12, 13, 1000: keep 11, 12, 13 */
    rules_guild.nroles = 3;
    m = (perm_member_t){50, r11, 1, 0};
    ASSERT(perm_base(&rules_guild, &m, NOW) == (PERM_SEND_MESSAGES | PERM_KICK_MEMBERS));
    return 0;
}

TEST_IMPL(perm_rules_overwrites)
{
    uint64_t r11[] = {11}, r11_12[] = {11, 12};
    perm_overwrite_t ows[4];
    perm_channel_t ch = {500, PERM_CHANNEL_TEXT, ows, 0, NULL};
    perm_member_t m = {50, r11, 1, 0};
    uint64_t base = PERM_VIEW_CHANNEL | PERM_SEND_MESSAGES | PERM_ADD_REACTIONS;

    rules_setup(base);

    /* @everyone deny takes from everyone, roles' base included... */
    ows[0] = (perm_overwrite_t){G, PERM_OW_ROLE, 0, PERM_SEND_MESSAGES};
    ch.noverwrites = 1;
    ASSERT(!(perm_channel(&rules_guild, &m, &ch, NOW) & PERM_SEND_MESSAGES));
    /* ...and a role allow gives it back. */
    ows[1] = (perm_overwrite_t){11, PERM_OW_ROLE, PERM_SEND_MESSAGES, 0};
    ch.noverwrites = 2;
    ASSERT(perm_channel(&rules_guild, &m, &ch, NOW) & PERM_SEND_MESSAGES);

    /* Role overwrites combine: one role's allow beats another role's deny whatever the
     * positions (12 is above 11 and denies; 11 allows). */
    ows[1] = (perm_overwrite_t){11, PERM_OW_ROLE, PERM_USE_EXTERNAL_EMOJIS, 0};
    ows[2] = (perm_overwrite_t){12, PERM_OW_ROLE, 0, PERM_USE_EXTERNAL_EMOJIS | PERM_ADD_REACTIONS};
    ch.noverwrites = 3;
    m.roles = r11_12, m.nroles = 2;
    ASSERT(perm_channel(&rules_guild, &m, &ch, NOW) & PERM_USE_EXTERNAL_EMOJIS);
    ASSERT(!(perm_channel(&rules_guild, &m, &ch, NOW) & PERM_ADD_REACTIONS));
    /* A role overwrite of a role the member lacks does nothing. */
    m.roles = r11, m.nroles = 1;
    ASSERT(perm_channel(&rules_guild, &m, &ch, NOW) & PERM_ADD_REACTIONS);

    /* The member overwrite comes last: its deny beats the role allow, its allow beats
     * the role deny and the @everyone deny. */
    m.roles = r11_12, m.nroles = 2;
    ows[3] = (perm_overwrite_t){50, PERM_OW_MEMBER, PERM_ADD_REACTIONS | PERM_SEND_MESSAGES,
                                PERM_USE_EXTERNAL_EMOJIS};
    ch.noverwrites = 4;
    ASSERT(!(perm_channel(&rules_guild, &m, &ch, NOW) & PERM_USE_EXTERNAL_EMOJIS));
    ASSERT(perm_channel(&rules_guild, &m, &ch, NOW) & PERM_ADD_REACTIONS);
    ASSERT(perm_channel(&rules_guild, &m, &ch, NOW) & PERM_SEND_MESSAGES);
    /* A member overwrite for someone else does nothing; nor does a role overwrite
     * whose id happens to be the member's (type decides). */
    ows[3].id = 51;
    ASSERT(perm_channel(&rules_guild, &m, &ch, NOW) & PERM_USE_EXTERNAL_EMOJIS);
    ows[3] = (perm_overwrite_t){50, PERM_OW_ROLE, 0, PERM_VIEW_CHANNEL};
    ASSERT(perm_channel(&rules_guild, &m, &ch, NOW) & PERM_VIEW_CHANNEL);

    /* Administrator and owner bypass every overwrite. */
    ows[0] = (perm_overwrite_t){G, PERM_OW_ROLE, 0, PERM_ALL};
    ch.noverwrites = 1;
    m = (perm_member_t){52, (uint64_t[]){13}, 1, 0};
    ASSERT(perm_channel(&rules_guild, &m, &ch, NOW) == PERM_ALL);
    m = (perm_member_t){OWNER, NULL, 0, 0};
    ASSERT(perm_channel(&rules_guild, &m, &ch, NOW) == PERM_ALL);
    /* An overwrite that allows ADMINISTRATOR does not make an administrator: the
     * bypass is decided by the base. */
    ows[0] = (perm_overwrite_t){G, PERM_OW_ROLE, PERM_ADMINISTRATOR, 0};
    m = (perm_member_t){50, NULL, 0, 0};
    ASSERT(perm_channel(&rules_guild, &m, &ch, NOW) != PERM_ALL);
    return 0;
}

TEST_IMPL(perm_rules_implicit)
{
    perm_overwrite_t ow;
    perm_channel_t ch = {500, PERM_CHANNEL_TEXT, &ow, 1, NULL};
    perm_member_t m = {50, NULL, 0, 0};
    uint64_t p;

    rules_setup(PERM_VIEW_CHANNEL | PERM_SEND_MESSAGES | PERM_MENTION_EVERYONE | PERM_EMBED_LINKS |
                PERM_ATTACH_FILES | PERM_SEND_TTS_MESSAGES | PERM_ADD_REACTIONS |
                PERM_MANAGE_MESSAGES | PERM_KICK_MEMBERS | PERM_CONNECT | PERM_SPEAK |
                PERM_MANAGE_CHANNELS);

    /* No VIEW_CHANNEL: nothing at all, even what the overwrite allows. */
    ow = (perm_overwrite_t){50, PERM_OW_MEMBER, PERM_SEND_MESSAGES, PERM_VIEW_CHANNEL};
    ASSERT_EQ(perm_channel(&rules_guild, &m, &ch, NOW), 0);
    /* The guild-level base keeps its bits; only the channel is dark. */
    ASSERT(perm_base(&rules_guild, &m, NOW) & PERM_VIEW_CHANNEL);

    /* No SEND_MESSAGES: no @everyone mention, TTS, files, embeds; the rest stays. */
    ow = (perm_overwrite_t){G, PERM_OW_ROLE, 0, PERM_SEND_MESSAGES};
    p = perm_channel(&rules_guild, &m, &ch, NOW);
    ASSERT_EQ(p & (PERM_SEND_MESSAGES | PERM_SEND_IMPLIED), 0);
    ASSERT(p & PERM_ADD_REACTIONS);
    ASSERT(p & PERM_MANAGE_MESSAGES);
    ASSERT(p & PERM_VIEW_CHANNEL);

    /* A voice channel without CONNECT: no voice permissions, no MANAGE_CHANNELS; text
     * chat stays. A text channel without CONNECT keeps MANAGE_CHANNELS. */
    ch.type = PERM_CHANNEL_VOICE;
    ow = (perm_overwrite_t){G, PERM_OW_ROLE, 0, PERM_CONNECT};
    p = perm_channel(&rules_guild, &m, &ch, NOW);
    ASSERT_EQ(p & (PERM_SPEAK | PERM_MANAGE_CHANNELS | PERM_CONNECT), 0);
    ASSERT(p & PERM_SEND_MESSAGES);
    ch.type = PERM_CHANNEL_TEXT;
    ASSERT(perm_channel(&rules_guild, &m, &ch, NOW) & PERM_MANAGE_CHANNELS);
    return 0;
}

TEST_IMPL(perm_rules_timeout)
{
    perm_overwrite_t ow = {G, PERM_OW_ROLE, PERM_ADD_REACTIONS, 0};
    perm_channel_t ch = {500, PERM_CHANNEL_TEXT, &ow, 1, NULL};
    perm_member_t m = {50, NULL, 0, NOW + 60000};
    uint64_t r13[] = {13};

    rules_setup(PERM_VIEW_CHANNEL | PERM_SEND_MESSAGES | PERM_READ_MESSAGE_HISTORY |
                PERM_KICK_MEMBERS);
    /* Timed out: only VIEW_CHANNEL and READ_MESSAGE_HISTORY, in the channel and in the
     * guild (no kicking while timed out). */
    ASSERT(perm_timed_out(&m, NOW));
    ASSERT(perm_channel(&rules_guild, &m, &ch, NOW) ==
           (PERM_VIEW_CHANNEL | PERM_READ_MESSAGE_HISTORY));
    ASSERT(perm_base(&rules_guild, &m, NOW) == (PERM_VIEW_CHANNEL | PERM_READ_MESSAGE_HISTORY));
    /* The cut never adds: a channel that hides itself stays hidden. */
    ow = (perm_overwrite_t){G, PERM_OW_ROLE, 0, PERM_VIEW_CHANNEL};
    ASSERT_EQ(perm_channel(&rules_guild, &m, &ch, NOW), 0);
    /* When it ends (the instant it ends, too), everything is back. */
    ow = (perm_overwrite_t){G, PERM_OW_ROLE, PERM_ADD_REACTIONS, 0};
    ASSERT(!perm_timed_out(&m, NOW + 60000));
    ASSERT(perm_channel(&rules_guild, &m, &ch, NOW + 60000) & PERM_SEND_MESSAGES);
    ASSERT(perm_base(&rules_guild, &m, NOW + 60001) & PERM_KICK_MEMBERS);
    /* Administrators and the owner are exempt. */
    m.roles = r13, m.nroles = 1;
    ASSERT(perm_channel(&rules_guild, &m, &ch, NOW) == PERM_ALL);
    ASSERT(perm_base(&rules_guild, &m, NOW) == PERM_ALL);
    m = (perm_member_t){OWNER, NULL, 0, NOW + 60000};
    ASSERT(perm_channel(&rules_guild, &m, &ch, NOW) == PERM_ALL);
    return 0;
}

TEST_IMPL(perm_rules_category)
{
    perm_overwrite_t cat_ow = {G, PERM_OW_ROLE, 0, PERM_VIEW_CHANNEL};
    perm_overwrite_t own_ow = {G, PERM_OW_ROLE, PERM_ADD_REACTIONS, 0};
    perm_channel_t cat = {400, PERM_CHANNEL_CATEGORY, &cat_ow, 1, NULL};
    perm_channel_t ch = {500, PERM_CHANNEL_TEXT, NULL, 0, &cat};
    perm_member_t m = {50, NULL, 0, 0};

    rules_setup(PERM_VIEW_CHANNEL | PERM_SEND_MESSAGES);
    /* No overwrites of its own: the category's apply (synced). */
    ASSERT_EQ(perm_channel(&rules_guild, &m, &ch, NOW), 0);
    /* Overwrites of its own: only those (Discord computes from the channel's own). */
    ch.overwrites = &own_ow;
    ch.noverwrites = 1;
    ASSERT(perm_channel(&rules_guild, &m, &ch, NOW) ==
           (PERM_VIEW_CHANNEL | PERM_SEND_MESSAGES | PERM_ADD_REACTIONS));
    /* No category: the base. */
    ch = (perm_channel_t){500, PERM_CHANNEL_TEXT, NULL, 0, NULL};
    ASSERT(perm_channel(&rules_guild, &m, &ch, NOW) == (PERM_VIEW_CHANNEL | PERM_SEND_MESSAGES));
    return 0;
}

TEST_IMPL(perm_hierarchy)
{
    perm_member_t owner = {OWNER, NULL, 0, 0};
    perm_member_t plain = {50, NULL, 0, 0}, plain2 = {51, NULL, 0, 0};
    perm_member_t mod = {52, (uint64_t[]){11}, 1, 0};
    perm_member_t mod2 = {53, (uint64_t[]){11}, 1, 0};
    perm_member_t senior = {54, (uint64_t[]){12, 11}, 2, 0};
    perm_member_t older = {55, (uint64_t[]){10}, 1, 0}; /* position 2 like 12, older id */
    perm_member_t admin = {56, (uint64_t[]){13}, 1, 0};
    perm_role_t r;

    rules_setup(PERM_VIEW_CHANNEL);
    /* Highest role: by position, ties by the lower (older) id; @everyone when none. */
    perm_highest_role(&rules_guild, &plain, &r);
    ASSERT_EQ(r.id, G);
    ASSERT_EQ(r.position, 0);
    ASSERT_EQ(perm_highest_position(&rules_guild, &senior), 2);
    perm_highest_role(&rules_guild, &senior, &r);
    ASSERT_EQ(r.id, 12);
    ASSERT(perm_role_above(perm_role_find(&rules_guild, 10), perm_role_find(&rules_guild, 12)));
    ASSERT(!perm_role_above(perm_role_find(&rules_guild, 12), perm_role_find(&rules_guild, 10)));
    ASSERT(!perm_role_above(perm_role_find(&rules_guild, 12), perm_role_find(&rules_guild, 12)));

    /* Members: strictly above only. */
    ASSERT(perm_can_manage_member(&rules_guild, &mod, &plain));
    ASSERT(!perm_can_manage_member(&rules_guild, &plain, &mod));
    ASSERT(!perm_can_manage_member(&rules_guild, &plain, &plain2)); /* same level */
    ASSERT(!perm_can_manage_member(&rules_guild, &mod, &mod2));     /* same highest role */
    ASSERT(perm_can_manage_member(&rules_guild, &senior, &mod));
    ASSERT(perm_can_manage_member(&rules_guild, &older, &senior)); /* the tie goes by id */
    ASSERT(!perm_can_manage_member(&rules_guild, &senior, &older));
    ASSERT(!perm_can_manage_member(&rules_guild, &mod, &mod)); /* not oneself */
    /* A moderator cannot kick an administrator above it; an administrator above can. */
    ASSERT(!perm_can_manage_member(&rules_guild, &senior, &admin));
    ASSERT(perm_can_manage_member(&rules_guild, &admin, &senior));
    /* The owner is above all, and nobody (administrators included) acts on the owner. */
    ASSERT(perm_can_manage_member(&rules_guild, &owner, &admin));
    ASSERT(perm_can_manage_member(&rules_guild, &owner, &plain));
    ASSERT(!perm_can_manage_member(&rules_guild, &admin, &owner));
    ASSERT(!perm_can_manage_member(&rules_guild, &owner, &owner));

    /* Roles: strictly below one's highest role; the owner manages every role. */
    ASSERT(perm_can_manage_role(&rules_guild, &mod, perm_role_find(&rules_guild, G)));
    ASSERT(!perm_can_manage_role(&rules_guild, &mod, perm_role_find(&rules_guild, 11)));
    ASSERT(perm_can_manage_role(&rules_guild, &senior, perm_role_find(&rules_guild, 11)));
    ASSERT(!perm_can_manage_role(&rules_guild, &senior, perm_role_find(&rules_guild, 13)));
    ASSERT(!perm_can_manage_role(&rules_guild, &plain, perm_role_find(&rules_guild, G)));
    ASSERT(perm_can_manage_role(&rules_guild, &owner, perm_role_find(&rules_guild, 13)));

    /* Granting: only bits one has, unless administrator. */
    ASSERT(perm_can_grant(PERM_MANAGE_ROLES | PERM_SEND_MESSAGES, PERM_SEND_MESSAGES));
    ASSERT(!perm_can_grant(PERM_MANAGE_ROLES, PERM_SEND_MESSAGES | PERM_MANAGE_ROLES));
    ASSERT(perm_can_grant(PERM_ALL, PERM_ADMINISTRATOR));
    ASSERT(perm_can_grant(PERM_MANAGE_ROLES, 0));
    return 0;
}

/* ---- the JSON builders -------------------------------------------------------------------- */

TEST_IMPL(perm_json_builders)
{
    perm_guild_t g;
    perm_member_t m;
    perm_channel_t c;
    int64_t ms;
    char ts[STORE_TIMESTAMP_SIZE];
    json_t *j;

    /* As the store writes them. */
    j = json_loads("{\"id\": \"1000\", \"owner_id\": \"1\", \"name\": \"g\", \"roles\": ["
                   "{\"id\": \"1002\", \"position\": 2, \"permissions\": \"8\"},"
                   "{\"id\": \"1000\", \"position\": 0, \"permissions\": \"1024\"},"
                   "{\"id\": \"1001\", \"position\": 1, \"permissions\": \"2048\"}]}",
                   0, NULL);
    ASSERT_NOT_NULL(j);
    ASSERT_OK(perm_guild_from_json(j, &g));
    ASSERT_EQ(g.id, 1000);
    ASSERT_EQ(g.owner_id, 1);
    ASSERT_EQ(g.nroles, 3);
    ASSERT_EQ(g.roles[0].id, 1000); /* sorted by id */
    ASSERT_EQ(perm_role_find(&g, 1002)->permissions, PERM_ADMINISTRATOR);
    ASSERT_EQ(perm_role_find(&g, 1001)->position, 1);
    ASSERT_NULL(perm_role_find(&g, 1003));
    perm_guild_clear(&g);
    json_decref(j);

    store_timestamp(NOW + 1234, ts);
    j = json_pack("{s:{s:s}, s:[s,s], s:s, s:n}", "user", "id", "77", "roles", "1001", "1002",
                  "communication_disabled_until", ts, "nick");
    ASSERT_OK(perm_member_from_json(j, &m));
    ASSERT_EQ(m.user_id, 77);
    ASSERT_EQ(m.nroles, 2);
    ASSERT_EQ(m.roles[1], 1002);
    ASSERT_EQ(m.timeout_until_ms, NOW + 1234);
    perm_member_clear(&m);
    json_object_set_new(j, "communication_disabled_until", json_null());
    ASSERT_OK(perm_member_from_json(j, &m));
    ASSERT_EQ(m.timeout_until_ms, 0);
    perm_member_clear(&m);
    json_object_set_new(j, "communication_disabled_until", json_string("tomorrow"));
    ASSERT_EQ(perm_member_from_json(j, &m), -1);
    json_object_set_new(j, "communication_disabled_until", json_null());
    json_object_set_new(j, "roles", json_pack("[s]", "x"));
    ASSERT_EQ(perm_member_from_json(j, &m), -1);
    json_object_del(j, "roles");
    json_object_del(j, "user");
    ASSERT_EQ(perm_member_from_json(j, &m), -1);
    json_object_set_new(j, "user_id", json_string("78"));
    ASSERT_OK(perm_member_from_json(j, &m)); /* no roles: @everyone only */
    ASSERT_EQ(m.user_id, 78);
    ASSERT_EQ(m.nroles, 0);
    perm_member_clear(&m);
    json_decref(j);

    j = json_loads("{\"id\": \"500\", \"type\": 0, \"parent_id\": null, "
                   "\"permission_overwrites\": ["
                   "{\"id\": \"1000\", \"type\": 0, \"allow\": \"0\", \"deny\": \"1024\"},"
                   "{\"id\": \"77\", \"type\": 1, \"allow\": \"3072\", \"deny\": \"0\"},"
                   "{\"id\": \"1001\", \"type\": \"role\", \"allow\": 64}]}",
                   0, NULL);
    ASSERT_OK(perm_channel_from_json(j, &c));
    ASSERT_EQ(c.id, 500);
    ASSERT_EQ(c.noverwrites, 3);
    ASSERT_EQ(c.overwrites[0].deny, PERM_VIEW_CHANNEL);
    ASSERT_EQ(c.overwrites[1].type, PERM_OW_MEMBER);
    ASSERT_EQ(c.overwrites[1].allow, PERM_VIEW_CHANNEL | PERM_SEND_MESSAGES);
    ASSERT_EQ(c.overwrites[2].type, PERM_OW_ROLE);
    ASSERT_EQ(c.overwrites[2].allow, 64);
    ASSERT_EQ(c.overwrites[2].deny, 0);
    ASSERT_NULL(c.parent);
    perm_channel_clear(&c);
    json_array_append_new(
        json_object_get(j, "permission_overwrites"),
        json_pack("{s:s, s:i, s:s, s:s}", "id", "5", "type", 2, "allow", "0", "deny", "0"));
    ASSERT_EQ(perm_channel_from_json(j, &c), -1);
    json_object_set_new(j, "permission_overwrites", json_null());
    ASSERT_OK(perm_channel_from_json(j, &c));
    ASSERT_EQ(c.noverwrites, 0);
    perm_channel_clear(&c);
    json_decref(j);

    ASSERT_OK(perm_iso_ms("2015-01-01T00:00:00+00:00", &ms));
    ASSERT_EQ(ms, 1420070400000LL);
    ASSERT_OK(perm_iso_ms("2015-01-01T00:00:00.250Z", &ms));
    ASSERT_EQ(ms, 1420070400250LL);
    ASSERT_OK(perm_iso_ms("2015-01-01T01:00:00+01:00", &ms));
    ASSERT_EQ(ms, 1420070400000LL);
    ASSERT_OK(perm_iso_ms(store_timestamp(NOW + 5, ts), &ms));
    ASSERT_EQ(ms, NOW + 5);
    ASSERT_EQ(perm_iso_ms("2015-01-01", &ms), -1);
    ASSERT_EQ(perm_iso_ms("2015-13-01T00:00:00Z", &ms), -1);
    ASSERT_EQ(perm_iso_ms("2015-01-01T00:00:00Zjunk", &ms), -1);
    return 0;
}

/* ---- the model, written from the docs, on the JSON itself ---------------------------------- */

static uint64_t rng_state;

/* xorshift64*: reproducible from test_seed(). */
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

static unsigned rnd_below(unsigned n)
{
    return (unsigned)(rnd() % n);
}

static uint64_t jid(const json_t *v)
{
    return strtoull(json_string_value(v), NULL, 10);
}

static uint64_t jperm(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));

    return s != NULL ? strtoull(s, NULL, 10) : 0;
}

/* Unix ms from "YYYY-MM-DDTHH:MM:SS.ffffff+00:00" (the store's form only). */
static int64_t model_time(const char *s)
{
    struct tm tm = {0};
    int frac = 0;

    sscanf(s, "%d-%d-%dT%d:%d:%d.%3d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
           &tm.tm_min, &tm.tm_sec, &frac);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000 + frac;
}

static const json_t *model_find(const json_t *list, uint64_t id)
{
    const json_t *v;
    size_t i;

    json_array_foreach(list, i, v)
    {
        if (jid(json_object_get(v, "id")) == id)
            return v;
    }
    return NULL;
}

/* compute_base_permissions, as the docs write it. */
static uint64_t model_base(const json_t *guild, const json_t *member)
{
    uint64_t gid = jid(json_object_get(guild, "id")), perms = 0;
    const json_t *roles = json_object_get(guild, "roles"), *r, *rid;
    size_t i;

    if (jid(json_object_get(json_object_get(member, "user"), "id")) ==
        jid(json_object_get(guild, "owner_id")))
        return PERM_ALL;
    r = model_find(roles, gid);
    if (r != NULL)
        perms = jperm(r, "permissions");
    json_array_foreach(json_object_get(member, "roles"), i, rid)
    {
        r = model_find(roles, jid(rid));
        if (r != NULL)
            perms |= jperm(r, "permissions");
    }
    if ((perms & PERM_ADMINISTRATOR) == PERM_ADMINISTRATOR)
        return PERM_ALL;
    return perms;
}

static const json_t *model_overwrite(const json_t *ows, uint64_t id, int type)
{
    const json_t *o;
    size_t i;

    json_array_foreach(ows, i, o)
    {
        if (jid(json_object_get(o, "id")) == id &&
            json_integer_value(json_object_get(o, "type")) == type)
            return o;
    }
    return NULL;
}

/* compute_overwrites, as the docs write it, with the channel's overwrites or, when it
 * has none, its category's (perm.h's documented rule). */
static uint64_t model_overwrites(uint64_t base, const json_t *guild, const json_t *member,
                                 const json_t *channel, const json_t *parent)
{
    const json_t *ows = json_object_get(channel, "permission_overwrites"), *o, *rid;
    uint64_t perms = base, allow = 0, deny = 0;
    size_t i;

    if ((base & PERM_ADMINISTRATOR) == PERM_ADMINISTRATOR)
        return PERM_ALL;
    if (json_array_size(ows) == 0 && parent != NULL)
        ows = json_object_get(parent, "permission_overwrites");
    o = model_overwrite(ows, jid(json_object_get(guild, "id")), 0);
    if (o != NULL) {
        perms &= ~jperm(o, "deny");
        perms |= jperm(o, "allow");
    }
    json_array_foreach(json_object_get(member, "roles"), i, rid)
    {
        o = model_overwrite(ows, jid(rid), 0);
        if (o != NULL) {
            allow |= jperm(o, "allow");
            deny |= jperm(o, "deny");
        }
    }
    perms &= ~deny;
    perms |= allow;
    o = model_overwrite(ows, jid(json_object_get(json_object_get(member, "user"), "id")), 1);
    if (o != NULL) {
        perms &= ~jperm(o, "deny");
        perms |= jperm(o, "allow");
    }
    return perms;
}

static bool model_timed_out(const json_t *member, int64_t now)
{
    const char *s = json_string_value(json_object_get(member, "communication_disabled_until"));

    return s != NULL && model_time(s) > now;
}

/* The docs' "Implicit Permissions" and "Permissions for Timed Out Members". */
static uint64_t model_channel(const json_t *guild, const json_t *member, const json_t *channel,
                              const json_t *parent, int64_t now)
{
    uint64_t p = model_base(guild, member);
    json_int_t type = json_integer_value(json_object_get(channel, "type"));

    if (p == PERM_ALL) /* owner or administrator */
        return p;
    p = model_overwrites(p, guild, member, channel, parent);
    if (!(p & PERM_VIEW_CHANNEL))
        return 0;
    if (!(p & PERM_SEND_MESSAGES))
        p &= ~(PERM_MENTION_EVERYONE | PERM_SEND_TTS_MESSAGES | PERM_ATTACH_FILES |
               PERM_EMBED_LINKS);
    if ((type == 2 || type == 13) && !(p & PERM_CONNECT))
        p &= ~PERM_CONNECT_IMPLIED;
    if (model_timed_out(member, now))
        p &= PERM_VIEW_CHANNEL | PERM_READ_MESSAGE_HISTORY;
    return p;
}

static uint64_t model_guild_level(const json_t *guild, const json_t *member, int64_t now)
{
    uint64_t p = model_base(guild, member);

    if (p != PERM_ALL && model_timed_out(member, now))
        p &= PERM_VIEW_CHANNEL | PERM_READ_MESSAGE_HISTORY;
    return p;
}

/* ---- random guilds ------------------------------------------------------------------------ */

#define MAX_ROLES 8
#define MAX_MEMBERS 10
#define MAX_CHANNELS 8

/* Bits the rules single out, most of the time; any 53 bits some of the time. */
static uint64_t rnd_perms(void)
{
    static const uint64_t interesting[] = {
        PERM_VIEW_CHANNEL,    PERM_SEND_MESSAGES,        PERM_MENTION_EVERYONE, PERM_EMBED_LINKS,
        PERM_ATTACH_FILES,    PERM_SEND_TTS_MESSAGES,    PERM_CONNECT,          PERM_SPEAK,
        PERM_MANAGE_CHANNELS, PERM_READ_MESSAGE_HISTORY, PERM_ADD_REACTIONS,    PERM_KICK_MEMBERS,
    };
    uint64_t p = 0;
    unsigned i;

    if (rnd_below(8) == 0)
        return rnd() & PERM_ALL & ~PERM_ADMINISTRATOR;
    for (i = 0; i < sizeof(interesting) / sizeof(interesting[0]); i++)
        if (rnd_below(2))
            p |= interesting[i];
    return p;
}

static json_t *id_str(uint64_t id)
{
    char buf[PERM_STR_SIZE];

    return json_string(perm_format(id, buf));
}

static json_t *rnd_overwrites(const json_t *guild, unsigned nmembers)
{
    json_t *ows = json_array(), *roles = json_object_get(guild, "roles");
    char a[PERM_STR_SIZE], d[PERM_STR_SIZE];
    size_t i;

    for (i = 0; i < json_array_size(roles); i++) /* @everyone is roles[0] */
        if (rnd_below(3) == 0)
            json_array_append_new(ows, json_pack("{s:O, s:i, s:s, s:s}", "id",
                                                 json_object_get(json_array_get(roles, i), "id"),
                                                 "type", 0, "allow", perm_format(rnd_perms(), a),
                                                 "deny", perm_format(rnd_perms(), d)));
    for (i = 0; i < nmembers; i++)
        if (rnd_below(5) == 0)
            json_array_append_new(ows, json_pack("{s:o, s:i, s:s, s:s}", "id", id_str(100 + i),
                                                 "type", 1, "allow", perm_format(rnd_perms(), a),
                                                 "deny", perm_format(rnd_perms(), d)));
    return ows;
}

static json_t *rnd_member(const json_t *guild, unsigned i, int64_t now)
{
    const json_t *roles = json_object_get(guild, "roles");
    char ts[STORE_TIMESTAMP_SIZE];
    json_t *m, *mr = json_array();
    size_t r;

    for (r = 1; r < json_array_size(roles); r++)
        if (rnd_below(3) == 0)
            json_array_append(mr, json_object_get(json_array_get(roles, r), "id"));
    if (rnd_below(10) == 0) /* a deleted role's id lingers */
        json_array_append_new(mr, id_str(99999));
    m = json_pack("{s:{s:o}, s:o, s:n}", "user", "id", id_str(100 + i), "roles", mr,
                  "communication_disabled_until");
    if (rnd_below(4) == 0) /* timed out: until a moment in the past or the future */
        json_object_set_new(
            m, "communication_disabled_until",
            json_string(store_timestamp(now + (int64_t)rnd_below(20000) - 10000, ts)));
    return m;
}

/* A guild object as store_guild_load returns it: roles, channels, members. */
static json_t *rnd_guild(int64_t now)
{
    unsigned nroles = rnd_below(MAX_ROLES), nmembers = 1 + rnd_below(MAX_MEMBERS);
    unsigned nchannels = 1 + rnd_below(MAX_CHANNELS), i;
    json_t *g, *roles, *channels, *members, *c;
    char p[PERM_STR_SIZE];
    int type;

    roles = json_array();
    json_array_append_new(roles, json_pack("{s:s, s:i, s:s}", "id", "1000", "position", 0,
                                           "permissions", perm_format(rnd_perms(), p)));
    for (i = 0; i < nroles; i++)
        json_array_append_new(
            roles,
            json_pack("{s:o, s:i, s:s}", "id", id_str(2000 + i), "position", (int)rnd_below(4) + 1,
                      "permissions",
                      perm_format(rnd_below(16) == 0 ? PERM_ADMINISTRATOR : rnd_perms(), p)));
    g = json_pack("{s:s, s:o, s:o}", "id", "1000", "owner_id", id_str(rnd_below(4) == 0 ? 100 : 9),
                  "roles", roles);
    channels = json_array();
    for (i = 0; i < nchannels; i++) {
        type = i < 2 ? 4 : (rnd_below(3) == 0 ? 2 : 0);
        c = json_pack("{s:o, s:i, s:o, s:n}", "id", id_str(3000 + i), "type", type,
                      "permission_overwrites",
                      rnd_below(3) == 0 ? json_array() : rnd_overwrites(g, nmembers), "parent_id");
        if (type != 4 && rnd_below(2) == 0)
            json_object_set_new(c, "parent_id", id_str(3000 + rnd_below(2)));
        json_array_append_new(channels, c);
    }
    members = json_array();
    for (i = 0; i < nmembers; i++)
        json_array_append_new(members, rnd_member(g, i, now));
    json_object_set_new(g, "channels", channels);
    json_object_set_new(g, "members", members);
    return g;
}

static const json_t *model_parent(const json_t *g, const json_t *channel)
{
    const json_t *pid = json_object_get(channel, "parent_id"), *p;

    if (!json_is_string(pid))
        return NULL;
    p = model_find(json_object_get(g, "channels"), jid(pid));
    return p != NULL && json_integer_value(json_object_get(p, "type")) == 4 ? p : NULL;
}

/* Checks every member x channel of g, at now, through the builders and the cache. */
static void check_guild(const json_t *g, perm_cache_t *cache, int64_t now, uint64_t *checked)
{
    const json_t *channels = json_object_get(g, "channels"), *members, *mj, *cj;
    perm_channel_t *pcs;
    perm_guild_t pg;
    perm_member_t pm;
    uint64_t want, got, uid, cid;
    size_t i, k, n;
    char a[256], b[256];

    members = json_object_get(g, "members");
    n = json_array_size(channels);
    ASSERT_OK(perm_guild_from_json(g, &pg));
    pcs = calloc(n, sizeof(*pcs));
    json_array_foreach(channels, i, cj)
    {
        ASSERT_OK(perm_channel_from_json(cj, &pcs[i]));
    }
    json_array_foreach(channels, i, cj)
    {
        const json_t *pj = model_parent(g, cj);

        if (pj != NULL)
            for (k = 0; k < n; k++)
                if (pcs[k].id == jid(json_object_get(pj, "id")))
                    pcs[i].parent = &pcs[k];
    }
    json_array_foreach(members, i, mj)
    {
        ASSERT_OK(perm_member_from_json(mj, &pm));
        uid = pm.user_id;
        want = model_guild_level(g, mj, now);
        ASSERT(perm_base(&pg, &pm, now) == want);
        if (cache != NULL)
            ASSERT(perm_cache_base(cache, uid, now) == want);
        for (k = 0; k < n; k++) {
            cj = json_array_get(channels, k);
            cid = jid(json_object_get(cj, "id"));
            want = model_channel(g, mj, cj, model_parent(g, cj), now);
            got = perm_channel(&pg, &pm, &pcs[k], now);
            if (got != want) {
                perm_format_names(want, a, sizeof(a));
                perm_format_names(got, b, sizeof(b));
                fprintf(stderr, "member %llu channel %llu: model %s, perm %s\n",
                        (unsigned long long)uid, (unsigned long long)cid, a, b);
                ASSERT(got == want);
            }
            if (cache != NULL)
                ASSERT(perm_cache_channel(cache, uid, cid, now) == want);
            (*checked)++;
        }
        perm_member_clear(&pm);
    }
    for (i = 0; i < n; i++)
        perm_channel_clear(&pcs[i]);
    free(pcs);
    perm_guild_clear(&pg);
}

TEST_IMPL(perm_matrix_model)
{
    uint64_t checked = 0;
    perm_cache_t *cache;
    size_t round, rounds = test_scaled(3000);
    json_t *g;

    rng_state = test_seed() | 1;
    for (round = 0; round < rounds; round++) {
        g = rnd_guild(NOW);
        cache = perm_cache_load(g);
        ASSERT_NOT_NULL(cache);
        check_guild(g, cache, NOW, &checked);
        /* Again: now from the cache's entries, and a moment later (timeouts end). */
        check_guild(g, cache, NOW, &checked);
        check_guild(g, cache, NOW + 10001, &checked);
        perm_cache_free(cache);
        json_decref(g);
    }
    ASSERT_GT(checked, rounds);
    return 0;
}

/* ---- the cache under changes -------------------------------------------------------------- */

static unsigned next_role_id;

/* One random change to g, made the same way to the cache. */
static void rnd_change(json_t *g, perm_cache_t *cache, int64_t now)
{
    json_t *roles = json_object_get(g, "roles"), *channels = json_object_get(g, "channels");
    json_t *members = json_object_get(g, "members"), *v;
    size_t n, i;
    char p[PERM_STR_SIZE];
    uint64_t id;

    switch (rnd_below(8)) {
    case 0: /* a role's permissions or position */
        v = json_array_get(roles, rnd_below((unsigned)json_array_size(roles)));
        json_object_set_new(
            v, "permissions",
            json_string(perm_format(rnd_below(10) == 0 ? PERM_ADMINISTRATOR : rnd_perms(), p)));
        json_object_set_new(v, "position", json_integer(rnd_below(5)));
        ASSERT_OK(perm_cache_set_role_json(cache, v));
        break;
    case 1: /* a new role */
        v = json_pack("{s:o, s:i, s:s}", "id", id_str(2100 + next_role_id++), "position",
                      (int)rnd_below(5), "permissions", perm_format(rnd_perms(), p));
        json_array_append_new(roles, v);
        ASSERT_OK(perm_cache_set_role_json(cache, v));
        break;
    case 2: /* a role deleted (members keep its id, as a stale cache of them might) */
        n = json_array_size(roles);
        if (n < 2)
            break;
        i = 1 + rnd_below((unsigned)n - 1);
        id = jid(json_object_get(json_array_get(roles, i), "id"));
        json_array_remove(roles, i);
        perm_cache_remove_role(cache, id);
        break;
    case 3: /* a channel's overwrites (a category's too) */
        v = json_array_get(channels, rnd_below((unsigned)json_array_size(channels)));
        json_object_set_new(v, "permission_overwrites",
                            rnd_below(3) == 0
                                ? json_array()
                                : rnd_overwrites(g, (unsigned)json_array_size(members) + 1));
        ASSERT_OK(perm_cache_set_channel_json(cache, v));
        break;
    case 4: /* a channel deleted */
        n = json_array_size(channels);
        if (n < 2)
            break;
        i = rnd_below((unsigned)n);
        id = jid(json_object_get(json_array_get(channels, i), "id"));
        json_array_remove(channels, i);
        /* Its children move to no parent, as the store does. */
        json_array_foreach(channels, n, v)
        {
            if (json_is_string(json_object_get(v, "parent_id")) &&
                jid(json_object_get(v, "parent_id")) == id) {
                json_object_set_new(v, "parent_id", json_null());
                ASSERT_OK(perm_cache_set_channel_json(cache, v));
            }
        }
        perm_cache_remove_channel(cache, id);
        break;
    case 5: /* a member's roles or timeout */
        i = rnd_below((unsigned)json_array_size(members));
        v = rnd_member(g, (unsigned)i, now);
        json_array_set_new(members, i, v);
        ASSERT_OK(perm_cache_set_member_json(cache, v));
        break;
    case 6: /* the owner */
        id = rnd_below(2) ? 100 + rnd_below((unsigned)json_array_size(members)) : 9;
        json_object_set_new(g, "owner_id", id_str(id));
        perm_cache_set_owner(cache, id);
        break;
    default: /* nothing: plain hits */
        break;
    }
}

TEST_IMPL(perm_cache_model)
{
    uint64_t checked = 0;
    perm_cache_stats_t st;
    perm_cache_t *cache;
    size_t round, step, rounds = test_scaled(300);
    int64_t now;
    json_t *g;

    rng_state = test_seed() | 1;
    for (round = 0; round < rounds; round++) {
        now = NOW;
        g = rnd_guild(now);
        cache = perm_cache_load(g);
        ASSERT_NOT_NULL(cache);
        for (step = 0; step < 30; step++) {
            rnd_change(g, cache, now);
            check_guild(g, cache, now, &checked);
            now += rnd_below(3000); /* timeouts run out as time goes */
        }
        perm_cache_stats(cache, &st);
        ASSERT_GT(st.hits, 0);
        ASSERT_EQ(st.members, json_array_size(json_object_get(g, "members")));
        ASSERT_EQ(st.channels, json_array_size(json_object_get(g, "channels")));
        perm_cache_free(cache);
        json_decref(g);
    }
    return 0;
}

TEST_IMPL(perm_cache_basics)
{
    perm_overwrite_t ow = {G, PERM_OW_ROLE, 0, PERM_VIEW_CHANNEL};
    perm_role_t everyone = {G, 0, PERM_VIEW_CHANNEL | PERM_SEND_MESSAGES};
    perm_role_t mod = {11, 1, PERM_KICK_MEMBERS}, admin = {13, 2, PERM_ADMINISTRATOR};
    uint64_t r11[] = {11}, r13[] = {13};
    perm_cache_stats_t st;
    perm_cache_t *c;
    size_t i;

    c = perm_cache_new(G, OWNER);
    perm_cache_set_role(c, &everyone);
    perm_cache_set_role(c, &mod);
    perm_cache_set_role(c, &admin);
    perm_cache_set_channel(c, 500, PERM_CHANNEL_TEXT, 0, NULL, 0);
    perm_cache_set_channel(c, 400, PERM_CHANNEL_CATEGORY, 0, NULL, 0);
    perm_cache_set_channel(c, 501, PERM_CHANNEL_TEXT, 400, NULL, 0);
    perm_cache_set_member(c, OWNER, NULL, 0, 0);
    perm_cache_set_member(c, 50, NULL, 0, 0);
    perm_cache_set_member(c, 52, r11, 1, 0);
    perm_cache_set_member(c, 56, r13, 1, 0);

    /* Unknown member or channel: nothing. */
    ASSERT_EQ(perm_cache_channel(c, 77, 500, NOW), 0);
    ASSERT_EQ(perm_cache_channel(c, 50, 777, NOW), 0);
    ASSERT_EQ(perm_cache_base(c, 77, NOW), 0);
    ASSERT(perm_cache_has(c, 50, 500, PERM_VIEW_CHANNEL | PERM_SEND_MESSAGES, NOW));
    ASSERT(!perm_cache_has(c, 50, 0, PERM_KICK_MEMBERS, NOW));
    ASSERT(perm_cache_has(c, 52, 0, PERM_KICK_MEMBERS, NOW));

    /* Repeated queries hit. */
    perm_cache_stats(c, &st);
    for (i = 0; i < 100; i++)
        ASSERT(perm_cache_channel(c, 50, 501, NOW) & PERM_VIEW_CHANNEL);
    perm_cache_stats(c, &st);
    ASSERT_GE(st.hits, 99);

    /* The category hides itself: its synced child follows at once. */
    perm_cache_set_channel(c, 400, PERM_CHANNEL_CATEGORY, 0, &ow, 1);
    ASSERT_EQ(perm_cache_channel(c, 50, 501, NOW), 0);
    ASSERT(perm_cache_channel(c, 50, 500, NOW) & PERM_VIEW_CHANNEL);
    ASSERT(perm_cache_channel(c, 56, 501, NOW) == PERM_ALL);
    /* The category goes: the child has no category any more. */
    perm_cache_remove_channel(c, 400);
    ASSERT(perm_cache_channel(c, 50, 501, NOW) & PERM_VIEW_CHANNEL);

    /* A role change reaches every member; a role deleted counts for nothing. */
    everyone.permissions = PERM_VIEW_CHANNEL;
    perm_cache_set_role(c, &everyone);
    ASSERT(!(perm_cache_channel(c, 50, 500, NOW) & PERM_SEND_MESSAGES));
    perm_cache_remove_role(c, 11);
    ASSERT(!perm_cache_has(c, 52, 0, PERM_KICK_MEMBERS, NOW));

    /* A timeout: stripped until it ends, then back without any call. */
    perm_cache_set_member(c, 50, r13, 1, 0);
    ASSERT(perm_cache_channel(c, 50, 500, NOW) == PERM_ALL); /* administrators are exempt */
    perm_cache_set_member(c, 50, NULL, 0, NOW + 1000);
    everyone.permissions = PERM_VIEW_CHANNEL | PERM_SEND_MESSAGES;
    perm_cache_set_role(c, &everyone);
    ASSERT(!perm_cache_has(c, 50, 500, PERM_SEND_MESSAGES, NOW));
    ASSERT(!perm_cache_has(c, 50, 500, PERM_SEND_MESSAGES, NOW + 999));
    ASSERT(perm_cache_has(c, 50, 500, PERM_SEND_MESSAGES, NOW + 1000));
    ASSERT(perm_cache_has(c, 50, 500, PERM_VIEW_CHANNEL, NOW));

    /* The hierarchy over the cache's model. */
    perm_cache_set_role(c, &mod);
    perm_cache_set_member(c, 52, r11, 1, 0);
    ASSERT(perm_cache_can_manage_member(c, 52, 50));
    ASSERT(!perm_cache_can_manage_member(c, 52, 56)); /* a moderator does not kick an admin */
    ASSERT(perm_cache_can_manage_member(c, 56, 52));
    ASSERT(!perm_cache_can_manage_member(c, 56, OWNER));
    ASSERT(perm_cache_can_manage_member(c, OWNER, 56));
    ASSERT(!perm_cache_can_manage_member(c, 52, 77));
    ASSERT(perm_cache_can_manage_role(c, 56, 11));
    ASSERT(!perm_cache_can_manage_role(c, 52, 11));
    ASSERT(!perm_cache_can_manage_role(c, 52, 12345));
    /* The owner changes hands. */
    perm_cache_set_owner(c, 50);
    ASSERT(perm_cache_channel(c, 50, 500, NOW) == PERM_ALL);
    ASSERT(perm_cache_channel(c, OWNER, 500, NOW) != PERM_ALL);
    perm_cache_remove_member(c, 52);
    ASSERT_NULL(perm_cache_member(c, 52));
    ASSERT_EQ(perm_cache_base(c, 52, NOW), 0);
    ASSERT_NOT_NULL(perm_cache_channel_model(c, 500));
    ASSERT_EQ(perm_cache_guild(c)->nroles, 3);
    perm_cache_free(c);
    perm_cache_free(NULL);
    return 0;
}

/* Entries of deleted channels do not pile up in a member's table. */
TEST_IMPL(perm_cache_bounded)
{
    perm_role_t everyone = {G, 0, PERM_VIEW_CHANNEL};
    perm_cache_stats_t st;
    perm_cache_t *c;
    uint64_t id;

    c = perm_cache_new(G, OWNER);
    perm_cache_set_role(c, &everyone);
    perm_cache_set_member(c, 50, NULL, 0, 0);
    for (id = 1; id <= 100000; id++) {
        perm_cache_set_channel(c, 10000 + id, PERM_CHANNEL_TEXT, 0, NULL, 0);
        ASSERT(perm_cache_channel(c, 50, 10000 + id, NOW) == PERM_VIEW_CHANNEL);
        if (id > 3)
            perm_cache_remove_channel(c, 10000 + id - 3);
    }
    perm_cache_stats(c, &st);
    ASSERT_EQ(st.channels, 3);
    ASSERT_LE(st.entries, 16);
    perm_cache_free(c);
    return 0;
}
