/* What a fired rule produces for others to see: the AUTO_MODERATION_ACTION_EXECUTION
 * dispatch (one per action, to members who may manage the guild), the alert message a
 * SEND_ALERT_MESSAGE action posts (Discord's type 24 system message with an
 * "auto_moderation_message" embed, whose fields clients read by name), and a
 * plain-text summary of the same. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

json_t *automod_event_json(uint64_t guild_id, const automod_hit_t *hit, size_t action,
                           const automod_message_t *m, uint64_t message_id,
                           uint64_t alert_message_id, bool with_content)
{
    const char *content = m->content != NULL ? m->content : "";
    json_t *ev;

    ev = json_object();
    json_object_set_new(ev, "guild_id", am_id_json(guild_id));
    /* A copy: the verdict's action is shared with the evaluator's rule. */
    json_object_set_new(ev, "action",
                        action < hit->nactions ? json_deep_copy(hit->actions[action].json)
                                               : json_null());
    json_object_set_new(ev, "rule_id", am_id_json(hit->rule_id));
    json_object_set_new(ev, "rule_trigger_type", json_integer(hit->trigger_type));
    json_object_set_new(ev, "user_id", am_id_json(m->author_id));
    if (m->channel_id != 0)
        json_object_set_new(ev, "channel_id", am_id_json(m->channel_id));
    if (message_id != 0)
        json_object_set_new(ev, "message_id", am_id_json(message_id));
    if (alert_message_id != 0)
        json_object_set_new(ev, "alert_system_message_id", am_id_json(alert_message_id));
    json_object_set_new(ev, "content", json_string(with_content ? content : ""));
    json_object_set_new(ev, "matched_keyword",
                        hit->matched_keyword != NULL ? json_string(hit->matched_keyword)
                                                     : json_null());
    json_object_set_new(ev, "matched_content",
                        hit->matched_content == NULL ? json_null()
                        : with_content               ? json_string(hit->matched_content)
                                                     : json_string(""));
    return ev;
}

static void field(json_t *fields, const char *name, json_t *value)
{
    json_array_append_new(fields,
                          json_pack("{s:s, s:o, s:b}", "name", name, "value", value, "inline", 0));
}

json_t *automod_alert_message_json(const automod_hit_t *hit, const automod_message_t *m,
                                   uint64_t decision_id, uint64_t flagged_message_id, bool blocked)
{
    json_t *msg, *embed, *fields;
    char buf[32];
    size_t i;

    fields = json_array();
    field(fields, "rule_name", json_string(hit->rule_name));
    if (m->channel_id != 0)
        field(fields, "channel_id", am_id_json(m->channel_id));
    field(fields, "decision_id", am_id_json(decision_id));
    field(fields, "decision_outcome", json_string(blocked ? "blocked" : "flagged"));
    field(fields, "decision_reason", json_string(hit->reason));
    if (hit->matched_keyword != NULL)
        field(fields, "keyword", json_string(hit->matched_keyword));
    if (hit->matched_content != NULL)
        field(fields, "keyword_matched_content", json_string(hit->matched_content));
    if (flagged_message_id != 0)
        field(fields, "flagged_message_id", am_id_json(flagged_message_id));
    for (i = 0; i < hit->nactions; i++) {
        if (hit->actions[i].type == AUTOMOD_ACTION_TIMEOUT) {
            snprintf(buf, sizeof(buf), "%lld", (long long)hit->actions[i].duration_seconds);
            field(fields, "timeout_duration", json_string(buf));
        }
    }
    embed = json_object();
    json_object_set_new(embed, "type", json_string("auto_moderation_message"));
    json_object_set_new(embed, "description", json_string(m->content != NULL ? m->content : ""));
    json_object_set_new(embed, "fields", fields);
    msg = json_object();
    json_object_set_new(msg, "type", json_integer(24));
    json_object_set_new(msg, "content", json_string(""));
    json_object_set_new(msg, "embeds", json_pack("[o]", embed));
    return msg;
}

/* buf[0..len) was cut at a byte: ends it before a character the cut split. */
static void cut_utf8(char *buf, size_t len)
{
    size_t q, need;
    unsigned char c;

    if (len == 0)
        return;
    q = len - 1;
    while (q > 0 && ((unsigned char)buf[q] & 0xC0) == 0x80)
        q--;
    c = (unsigned char)buf[q];
    need = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    if (q + need > len)
        buf[q] = '\0';
}

char *automod_alert_text(const automod_hit_t *hit, const automod_message_t *m, bool blocked,
                         char *buf, size_t size)
{
    int n;

    if (size == 0)
        return buf;
    if (hit->matched_keyword != NULL)
        n = snprintf(buf, size,
                     "AutoMod %s a message from <@%llu> in <#%llu>: rule \"%s\" matched \"%s\"",
                     blocked ? "blocked" : "flagged", (unsigned long long)m->author_id,
                     (unsigned long long)m->channel_id, hit->rule_name, hit->matched_keyword);
    else
        n = snprintf(buf, size, "AutoMod %s a message from <@%llu> in <#%llu>: rule \"%s\" (%s)",
                     blocked ? "blocked" : "flagged", (unsigned long long)m->author_id,
                     (unsigned long long)m->channel_id, hit->rule_name, hit->reason);
    /* Cut short: do not leave half a UTF-8 character at the end. */
    if (n >= 0 && (size_t)n >= size)
        cut_utf8(buf, size - 1);
    return buf;
}
