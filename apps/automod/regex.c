/* regex_patterns: Discord documents Rust-flavored regular expressions; Hearth runs
 * them on POSIX <regex.h> (glibc), extended syntax, case-insensitive for ASCII (the
 * process runs in the C locale: other bytes match as they are). A pattern is
 * translated first:
 *   \d \D            -> [0-9] [^0-9] (inside brackets \d -> 0-9, \w, \s likewise)
 *   (?:...)          -> (...); a leading (?i) is dropped (matching is always
 *                       case-insensitive); other (?...) groups are refused
 *   *? +? ?? {m,n}?  -> the greedy forms (laziness changes which match, not whether)
 *   \n \t \r \A \z   -> the characters, ^, $
 *   \w \W \s \S \b \B  kept (glibc supports them)
 * Bounded: back-references (\1..\9), which make glibc's matcher exponential, are
 * refused, and so are repetition counts above 255 or whose product over the pattern
 * exceeds 1000 (glibc expands x{m,n} into copies of x). Without back-references
 * glibc matches in time polynomial in the content, which is at most AM_SCAN_MAX. */
#include "internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define REPEAT_MAX 255
#define REPEAT_PRODUCT_MAX 1000

typedef struct out {
    char *buf;
    size_t len, cap;
} out_t;

static void put(out_t *o, const char *s)
{
    size_t n = strlen(s);

    if (o->len + n + 1 > o->cap) {
        o->cap = (o->len + n + 1) * 2;
        o->buf = realloc(o->buf, o->cap);
        if (o->buf == NULL)
            abort();
    }
    memcpy(o->buf + o->len, s, n + 1);
    o->len += n;
}

static void putc1(out_t *o, char c)
{
    char s[2] = {c, '\0'};

    put(o, s);
}

/* Parses "{m}", "{m,}" or "{m,n}" at p: its length, and the largest count it allows
 * (m for "{m,}") in *max. 0 if it is not one. */
static size_t parse_repeat(const char *p, long *max)
{
    const char *q = p + 1;
    long m = -1, n = -1;
    char *end;

    if (!isdigit((unsigned char)*q))
        return 0;
    m = strtol(q, &end, 10);
    q = end;
    if (*q == ',') {
        q++;
        if (isdigit((unsigned char)*q)) {
            n = strtol(q, &end, 10);
            q = end;
        }
    } else {
        n = m;
    }
    if (*q != '}' || m > REPEAT_MAX || n > REPEAT_MAX || (n >= 0 && n < m))
        return 0;
    *max = n >= 0 ? n : m;
    return (size_t)(q + 1 - p);
}

/* A backslash escape inside a bracket expression, where POSIX takes '\' literally. */
static int bracket_escape(out_t *o, char c, const char **why)
{
    switch (c) {
    case 'd':
        put(o, "0-9");
        return 0;
    case 'w':
        put(o, "[:alnum:]_");
        return 0;
    case 's':
        put(o, "[:space:]");
        return 0;
    case 'n':
        putc1(o, '\n');
        return 0;
    case 't':
        putc1(o, '\t');
        return 0;
    case '\\':
    case '.':
    case '+':
    case '*':
    case '?':
    case '(':
    case ')':
    case '{':
    case '}':
    case '|':
    case '$':
    case '/':
    case '#':
    case '&':
    case '~':
        putc1(o, c);
        return 0;
    default:
        *why = "unsupported escape in a character class";
        return -1;
    }
}

/* An escape outside brackets. */
static int escape(out_t *o, char c, const char **why)
{
    char s[3] = {'\\', c, '\0'};

    if (c >= '1' && c <= '9') {
        *why = "back-references are not supported";
        return -1;
    }
    switch (c) {
    case 'd':
        put(o, "[0-9]");
        return 0;
    case 'D':
        put(o, "[^0-9]");
        return 0;
    case 'w':
    case 'W':
    case 's':
    case 'S':
    case 'b':
    case 'B':
        put(o, s);
        return 0;
    case 'n':
        putc1(o, '\n');
        return 0;
    case 't':
        putc1(o, '\t');
        return 0;
    case 'r':
        putc1(o, '\r');
        return 0;
    case 'A':
        putc1(o, '^');
        return 0;
    case 'z':
        putc1(o, '$');
        return 0;
    default:
        if (isalnum((unsigned char)c) || c == '\0') {
            *why = c == '\0' ? "trailing backslash" : "unsupported escape";
            return -1;
        }
        put(o, s); /* an escaped punctuation character is itself */
        return 0;
    }
}

static int translate(out_t *o, const char *p, const char **why)
{
    long product = 1, max;
    size_t n;

    if (strncmp(p, "(?i)", 4) == 0)
        p += 4;
    while (*p != '\0') {
        switch (*p) {
        case '[':
            putc1(o, *p++);
            if (*p == '^')
                putc1(o, *p++);
            if (*p == ']')
                putc1(o, *p++); /* a ']' first is literal */
            while (*p != ']') {
                if (*p == '\0') {
                    *why = "unterminated character class";
                    return -1;
                }
                if (*p == '[' && (p[1] == ':' || p[1] == '=' || p[1] == '.')) {
                    const char *close = strstr(p + 2, (char[]){p[1], ']', '\0'});

                    if (close == NULL) {
                        *why = "unterminated character class";
                        return -1;
                    }
                    for (; p < close + 2; p++)
                        putc1(o, *p);
                } else if (*p == '\\') {
                    if (bracket_escape(o, p[1], why) < 0)
                        return -1;
                    p += 2;
                } else {
                    putc1(o, *p++);
                }
            }
            putc1(o, *p++);
            break;
        case '\\':
            if (escape(o, p[1], why) < 0)
                return -1;
            p += 2;
            break;
        case '(':
            if (p[1] == '?') {
                if (p[2] != ':') {
                    *why = "unsupported group";
                    return -1;
                }
                p += 2;
            }
            putc1(o, '(');
            p++;
            break;
        case '{':
            n = parse_repeat(p, &max);
            if (n == 0) {
                *why = "invalid repetition";
                return -1;
            }
            product *= max > 1 ? max : 1;
            if (product > REPEAT_PRODUCT_MAX) {
                *why = "repetition counts too large";
                return -1;
            }
            for (; n > 0; n--)
                putc1(o, *p++);
            if (*p == '?')
                p++;
            break;
        case '*':
        case '+':
        case '?':
            putc1(o, *p++);
            if (*p == '?')
                p++;
            break;
        default:
            putc1(o, *p++);
            break;
        }
    }
    return 0;
}

int am_regex_compile(regex_t *rx, const char *pattern, const char **why)
{
    out_t o = {0};
    int rc;

    put(&o, "");
    if (translate(&o, pattern, why) < 0) {
        free(o.buf);
        return -1;
    }
    rc = regcomp(rx, o.buf, REG_EXTENDED | REG_ICASE);
    free(o.buf);
    if (rc != 0) {
        *why = rc == REG_ESPACE ? "pattern too large" : "invalid pattern";
        return -1;
    }
    return 0;
}
