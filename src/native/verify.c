/* The verifier's one-pass line check: parse, validate, canonicalise and hash a stored receipt line.
 *
 * scan_receipt(line) reads one JSONL line without building Python objects for
 * its fields: it checks the line against the receipt schema of SPEC.md (the
 * twelve fields, nested objects with exactly their keys, the types and bounds
 * of receipts.ReceiptSchema), writes each value's canonical form as it goes
 * (strings re-escaped as json.dumps writes them, numbers as json.loads then
 * json.dumps would give them) and hashes the result. It answers only for a
 * line that is valid in every respect and whose recomputed hash equals the
 * stored one: then it returns (receipt_id, session_id, sequence_number,
 * receipt_hash, previous_receipt_hash, kind). For anything else (a problem,
 * or a spelling this code does not take: escaped keys, duplicate keys, lone
 * surrogates, NaN, very long integers) it returns None and the caller runs
 * the general Python path, which finds and words the problem. So a None is
 * never a verdict, and an answer is always what the general path would give
 * (tests/perf checks both on valid, damaged and hostile lines).
 */
#include "native.h"

#include <math.h>
#include <stdlib.h>

typedef enum {
    F_STR, F_STR_NULL, F_ID, F_ID_NULL, F_STATUS, F_STDOUT, F_HASH, F_STR_LIST,
    F_INT, F_INT_NULL, F_INT_GE0, F_INT_GE1, F_NUM, F_NUM_GE0, F_OBJECT
} FieldType;

typedef struct Spec Spec;

typedef struct {
    const char *name;
    Py_ssize_t name_len;
    FieldType type;
    const Spec *object; /* F_OBJECT */
    int slot;           /* where its canonical text is kept */
} Member;

struct Spec {
    const Member *members; /* sorted by name: the canonical order */
    int count;
};

#define M(name, type, object, slot) {name, (Py_ssize_t)(sizeof(name) - 1), type, object, slot}

enum {
    S_RECEIPT_ID, S_SESSION_ID, S_PROPOSAL_ID, S_SEQUENCE, S_TIMESTAMP, S_PREVIOUS, S_HASH,
    S_EX_INSTANCE, S_EX_MODEL, S_EX_TYPE,
    S_A_COMMAND, S_A_DESCRIPTION, S_A_EFFECT, S_A_OPERATION, S_A_REVERSIBILITY, S_A_RISK, S_A_TARGETS, S_A_TOOL,
    S_B_COMMANDS, S_B_POSTURE, S_B_FILES, S_B_RUNTIME, S_B_RISK, S_B_REMAINING, S_B_STEPS, S_B_WRITES,
    S_G_BRANCH, S_G_AFTER, S_G_BEFORE,
    S_R_BLOCKED, S_R_DIFF, S_R_EXIT, S_R_CREATED, S_R_DELETED, S_R_MODIFIED, S_R_STATUS, S_R_STDOUT,
    S_COUNT
};

static const Member action_members[] = {
    M("command", F_STR_NULL, NULL, S_A_COMMAND),
    M("description", F_STR, NULL, S_A_DESCRIPTION),
    M("effect_class", F_STR, NULL, S_A_EFFECT),
    M("operation", F_STR, NULL, S_A_OPERATION),
    M("reversibility", F_STR, NULL, S_A_REVERSIBILITY),
    M("risk_delta", F_NUM, NULL, S_A_RISK),
    M("target_paths", F_STR_LIST, NULL, S_A_TARGETS),
    M("tool", F_STR, NULL, S_A_TOOL),
};
static const Member budget_members[] = {
    M("commands_used", F_INT_GE0, NULL, S_B_COMMANDS),
    M("current_posture", F_STR, NULL, S_B_POSTURE),
    M("files_touched", F_INT_GE0, NULL, S_B_FILES),
    M("runtime_elapsed_seconds", F_NUM_GE0, NULL, S_B_RUNTIME),
    M("session_risk_score", F_NUM_GE0, NULL, S_B_RISK),
    M("steps_remaining", F_INT_GE0, NULL, S_B_REMAINING),
    M("steps_used", F_INT_GE0, NULL, S_B_STEPS),
    M("writes_used", F_INT_GE0, NULL, S_B_WRITES),
};
static const Member executor_members[] = {
    M("instance_id", F_STR, NULL, S_EX_INSTANCE),
    M("model", F_STR, NULL, S_EX_MODEL),
    M("type", F_STR, NULL, S_EX_TYPE),
};
static const Member git_members[] = {
    M("branch", F_STR, NULL, S_G_BRANCH),
    M("commit_after", F_STR_NULL, NULL, S_G_AFTER),
    M("commit_before", F_STR_NULL, NULL, S_G_BEFORE),
};
static const Member result_members[] = {
    M("blocked_by", F_STR_NULL, NULL, S_R_BLOCKED),
    M("diff_hash", F_STR_NULL, NULL, S_R_DIFF),
    M("exit_code", F_INT_NULL, NULL, S_R_EXIT),
    M("files_created", F_STR_LIST, NULL, S_R_CREATED),
    M("files_deleted", F_STR_LIST, NULL, S_R_DELETED),
    M("files_modified", F_STR_LIST, NULL, S_R_MODIFIED),
    M("status", F_STATUS, NULL, S_R_STATUS),
    M("stdout_truncated", F_STDOUT, NULL, S_R_STDOUT),
};
static const Spec action_spec = {action_members, 8};
static const Spec budget_spec = {budget_members, 8};
static const Spec executor_spec = {executor_members, 3};
static const Spec git_spec = {git_members, 3};
static const Spec result_spec = {result_members, 8};
static const Member receipt_members[] = {
    M("action", F_OBJECT, &action_spec, -1),
    M("budget_snapshot", F_OBJECT, &budget_spec, -1),
    M("executor", F_OBJECT, &executor_spec, -1),
    M("git_context", F_OBJECT, &git_spec, -1),
    M("previous_receipt_hash", F_ID_NULL, NULL, S_PREVIOUS),
    M("proposal_id", F_STR, NULL, S_PROPOSAL_ID),
    M("receipt_hash", F_HASH, NULL, S_HASH),
    M("receipt_id", F_ID, NULL, S_RECEIPT_ID),
    M("result", F_OBJECT, &result_spec, -1),
    M("sequence_number", F_INT_GE1, NULL, S_SEQUENCE),
    M("session_id", F_ID, NULL, S_SESSION_ID),
    M("timestamp", F_STR, NULL, S_TIMESTAMP),
};
static const Spec receipt_spec = {receipt_members, 12};

#define STDOUT_LIMIT 2000

typedef struct {
    const unsigned char *p;
    const unsigned char *end;
    Buf out;                 /* every value's canonical text, one after another */
    Py_ssize_t start[S_COUNT];
    Py_ssize_t len[S_COUNT];
    long long sequence;
} Scan;

/* Results of the parsing steps: 1 good, 0 "not here" (the caller returns None), -1 a Python error. */

static inline void skip_ws(Scan *s) {
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r')) {
        s->p++;
    }
}

static int hex4(const unsigned char *p, Py_UCS4 *out) {
    Py_UCS4 v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') {
            v |= (Py_UCS4)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            v |= (Py_UCS4)(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            v |= (Py_UCS4)(c - 'A' + 10);
        } else {
            return 0;
        }
    }
    *out = v;
    return 1;
}

/* One UTF-8 sequence starting at p (strict: no overlong forms, no surrogates, at most U+10FFFF). */
static int utf8_decode(const unsigned char *p, const unsigned char *end, Py_UCS4 *cp, int *size) {
    unsigned char c = p[0];
    int n;
    Py_UCS4 v, min;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2; v = c & 0x1f; min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3; v = c & 0x0f; min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4; v = c & 0x07; min = 0x10000;
    } else {
        return 0;
    }
    if (end - p < n) {
        return 0;
    }
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
        v = (v << 6) | (p[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
        return 0;
    }
    *cp = v;
    *size = n;
    return 1;
}

/* A JSON string at s->p, written canonically to s->out; *chars counts its code points.
 * Lone surrogates (which the schema check may treat differently) are left to Python. */
static int scan_string(Scan *s, Py_ssize_t *chars) {
    const unsigned char *p = s->p, *end = s->end;
    if (p >= end || *p != '"') {
        return 0;
    }
    p++;
    const unsigned char *run = p;
    while (p < end && *p >= 0x20 && *p <= 0x7e && *p != '"' && *p != '\\') {
        p++;
    }
    Py_ssize_t count = p - run;
    if (buf_reserve(&s->out, count + 2) < 0) {
        return -1;
    }
    s->out.data[s->out.len++] = '"';
    memcpy(s->out.data + s->out.len, run, (size_t)count);
    s->out.len += count;
    while (p < end && *p != '"') {
        unsigned char c = *p;
        Py_UCS4 cp;
        if (c < 0x20) {
            return 0; /* a raw control character: not JSON */
        }
        if (c == '\\') {
            if (end - p < 2) {
                return 0;
            }
            unsigned char e = p[1];
            p += 2;
            switch (e) {
            case '"': cp = '"'; break;
            case '\\': cp = '\\'; break;
            case '/': cp = '/'; break;
            case 'b': cp = '\b'; break;
            case 'f': cp = '\f'; break;
            case 'n': cp = '\n'; break;
            case 'r': cp = '\r'; break;
            case 't': cp = '\t'; break;
            case 'u':
                if (end - p < 4 || !hex4(p, &cp)) {
                    return 0;
                }
                p += 4;
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    Py_UCS4 low;
                    if (end - p >= 6 && p[0] == '\\' && p[1] == 'u' && hex4(p + 2, &low) && low >= 0xdc00
                        && low <= 0xdfff) {
                        cp = 0x10000 + (((cp - 0xd800) << 10) | (low - 0xdc00));
                        p += 6;
                    } else {
                        return 0; /* lone high surrogate */
                    }
                } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                    return 0; /* lone low surrogate */
                }
                break;
            default:
                return 0;
            }
        } else if (c < 0x80) {
            cp = c;
            p++;
        } else {
            int size;
            if (!utf8_decode(p, end, &cp, &size)) {
                return 0;
            }
            p += size;
        }
        if (put_codepoint(&s->out, cp) < 0) {
            return -1;
        }
        count++;
    }
    if (p >= end) {
        return 0;
    }
    s->p = p + 1;
    *chars = count;
    return buf_byte(&s->out, '"') < 0 ? -1 : 1;
}

/* True when a float written `text` (JSON grammar, no exponent) is already what float.__repr__ gives back:
 * at most 15 significant digits (so the double converts back to exactly these digits, and no shorter
 * decimal converts to it), no trailing zero in the fraction but a lone ".0", and 1e-4 <= |x| < 1e16 (where
 * repr writes positional notation). Anything else goes through float() and repr. */
static int float_is_canonical(const unsigned char *t, Py_ssize_t n) {
    Py_ssize_t i = 0;
    if (t[0] == '-') {
        i = 1;
    }
    Py_ssize_t dot = -1;
    for (Py_ssize_t k = i; k < n; k++) {
        if (t[k] == '.') {
            dot = k;
            break;
        }
    }
    if (dot < 0 || dot == n - 1) {
        return 0;
    }
    Py_ssize_t int_digits = dot - i;
    if (int_digits > 16) {
        return 0;
    }
    if (t[n - 1] == '0' && !(n - dot == 2)) {
        return 0; /* a trailing zero: repr drops it */
    }
    int zero_int = int_digits == 1 && t[i] == '0';
    Py_ssize_t significant = 0, leading = 0;
    int seen = !zero_int;
    if (!zero_int) {
        significant += int_digits;
    }
    for (Py_ssize_t k = dot + 1; k < n; k++) {
        if (!seen && t[k] == '0') {
            leading++;
            continue;
        }
        seen = 1;
        significant++;
    }
    if (significant > 15) {
        return 0;
    }
    if (zero_int) {
        if (!seen) {
            return n - dot == 2; /* 0.0 (and -0.0) */
        }
        if (leading >= 4) {
            return 0; /* below 1e-4: repr writes an exponent */
        }
    }
    return 1;
}

/* A JSON number at s->p, canonically: an int as int() then repr gives it, a float as float() then repr.
 * *is_int says which; *ivalue holds an int's value, *negative a float's sign (below zero).
 * Long integers are left to Python. */
static int scan_number(Scan *s, int *is_int, long long *ivalue, int *negative) {
    const unsigned char *p = s->p, *end = s->end, *start = p;
    int minus = 0;
    if (p < end && *p == '-') {
        minus = 1;
        p++;
    }
    if (p >= end || !(*p >= '0' && *p <= '9')) {
        return 0;
    }
    unsigned long long value = 0;
    Py_ssize_t digits = 0;
    if (*p == '0') {
        p++;
        digits = 1;
    } else {
        while (p < end && *p >= '0' && *p <= '9') {
            if (digits < 19) {
                value = value * 10 + (unsigned long long)(*p - '0');
            }
            digits++;
            p++;
        }
    }
    int fraction = 0, exponent = 0;
    if (p < end && *p == '.') {
        p++;
        const unsigned char *first = p;
        while (p < end && *p >= '0' && *p <= '9') {
            p++;
        }
        if (p == first) {
            return 0;
        }
        fraction = 1;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) {
            p++;
        }
        const unsigned char *first = p;
        while (p < end && *p >= '0' && *p <= '9') {
            p++;
        }
        if (p == first) {
            return 0;
        }
        exponent = 1;
    }
    Py_ssize_t n = p - start;
    if (!fraction && !exponent) {
        if (digits > 18) {
            return 0;
        }
        long long v = minus ? -(long long)value : (long long)value;
        *is_int = 1;
        *ivalue = v;
        char canon[24];
        int k = 0;
        if (v < 0) {
            canon[k++] = '-';
        }
        char rev[20];
        int r = 0;
        do {
            rev[r++] = (char)('0' + value % 10);
            value /= 10;
        } while (value);
        while (r) {
            canon[k++] = rev[--r];
        }
        s->p = p; /* "-0" is written "0", as int() and repr do */
        return buf_put(&s->out, canon, k) < 0 ? -1 : 1;
    }
    *is_int = 0;
    if (!exponent && float_is_canonical(start, n)) {
        int nonzero = 0;
        for (const unsigned char *q = start; q < p; q++) {
            if (*q >= '1' && *q <= '9') {
                nonzero = 1;
                break;
            }
        }
        *negative = minus && nonzero;
        s->p = p;
        return buf_put(&s->out, (const char *)start, n) < 0 ? -1 : 1;
    }
    char text[64];
    if (n >= (Py_ssize_t)sizeof text) {
        return 0;
    }
    memcpy(text, start, (size_t)n);
    text[n] = '\0';
    char *stop = NULL;
    double d = PyOS_string_to_double(text, &stop, NULL); /* what float() (and so json.loads) computes */
    if (d == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    if (stop != text + n || !isfinite(d)) {
        return 0;
    }
    char *repr = PyOS_double_to_string(d, 'r', 0, Py_DTSF_ADD_DOT_0, NULL); /* float.__repr__ */
    if (repr == NULL) {
        return -1;
    }
    int rc = buf_put(&s->out, repr, (Py_ssize_t)strlen(repr));
    PyMem_Free(repr);
    if (rc < 0) {
        return -1;
    }
    *negative = d < 0;
    s->p = p;
    return 1;
}

static int literal(Scan *s, const char *word, Py_ssize_t n) {
    if (s->end - s->p >= n && memcmp(s->p, word, (size_t)n) == 0) {
        s->p += n;
        return 1;
    }
    return 0;
}

/* True when the canonical text [start, start+len) is one of the plain ASCII strings a chain field holds. */
static int plain_text(const char *t, Py_ssize_t len) {
    for (Py_ssize_t i = 1; i + 1 < len; i++) {
        if (t[i] == '\\') {
            return 0;
        }
    }
    return 1;
}

static int scan_object(Scan *s, const Spec *spec);

static int scan_value(Scan *s, const Member *m) {
    skip_ws(s);
    if (m->type == F_OBJECT) {
        return scan_object(s, m->object);
    }
    Py_ssize_t start = s->out.len;
    int rc = 0;
    Py_ssize_t chars = 0;
    switch (m->type) {
    case F_STR_NULL:
    case F_ID_NULL:
        if (literal(s, "null", 4)) {
            rc = BUF_LIT(&s->out, "null") < 0 ? -1 : 1;
            break;
        }
        /* fall through */
    case F_STR:
    case F_ID:
    case F_STATUS:
    case F_STDOUT:
    case F_HASH:
        if (m->type == F_STDOUT && literal(s, "null", 4)) {
            rc = BUF_LIT(&s->out, "null") < 0 ? -1 : 1;
            break;
        }
        rc = scan_string(s, &chars);
        if (rc <= 0) {
            return rc;
        }
        {
            const char *t = s->out.data + start;
            Py_ssize_t len = s->out.len - start;
            if (m->type == F_STDOUT && chars > STDOUT_LIMIT) {
                return 0;
            }
            if (m->type == F_STATUS && !((len == 9 && memcmp(t, "\"success\"", 9) == 0)
                                         || (len == 9 && memcmp(t, "\"blocked\"", 9) == 0)
                                         || (len == 8 && memcmp(t, "\"failed\"", 8) == 0))) {
                return 0;
            }
            if (m->type == F_HASH) {
                if (len != 66) {
                    return 0;
                }
                for (int i = 1; i <= 64; i++) {
                    if (!((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f'))) {
                        return 0;
                    }
                }
            }
            if ((m->type == F_ID || m->type == F_ID_NULL) && !plain_text(t, len)) {
                return 0;
            }
        }
        break;
    case F_STR_LIST:
        if (s->p >= s->end || *s->p != '[') {
            return 0;
        }
        s->p++;
        if (buf_byte(&s->out, '[') < 0) {
            return -1;
        }
        skip_ws(s);
        if (s->p < s->end && *s->p == ']') {
            s->p++;
        } else {
            for (;;) {
                skip_ws(s);
                rc = scan_string(s, &chars);
                if (rc <= 0) {
                    return rc;
                }
                skip_ws(s);
                if (s->p < s->end && *s->p == ',') {
                    s->p++;
                    if (buf_byte(&s->out, ',') < 0) {
                        return -1;
                    }
                    continue;
                }
                if (s->p < s->end && *s->p == ']') {
                    s->p++;
                    break;
                }
                return 0;
            }
        }
        rc = buf_byte(&s->out, ']') < 0 ? -1 : 1;
        break;
    case F_INT_NULL:
        if (literal(s, "null", 4)) {
            rc = BUF_LIT(&s->out, "null") < 0 ? -1 : 1;
            break;
        }
        /* fall through */
    case F_INT:
    case F_INT_GE0:
    case F_INT_GE1:
    case F_NUM:
    case F_NUM_GE0: {
        int is_int = 0, negative = 0;
        long long iv = 0;
        rc = scan_number(s, &is_int, &iv, &negative);
        if (rc <= 0) {
            return rc;
        }
        int integral_field = m->type == F_INT || m->type == F_INT_NULL || m->type == F_INT_GE0 || m->type == F_INT_GE1;
        if (integral_field && !is_int) {
            return 0; /* strict: a float is not an int */
        }
        if ((m->type == F_INT_GE0 && iv < 0) || (m->type == F_INT_GE1 && iv < 1)) {
            return 0;
        }
        if (m->type == F_NUM_GE0 && (is_int ? iv < 0 : negative)) {
            return 0;
        }
        if (m->slot == S_SEQUENCE) {
            s->sequence = iv;
        }
        break;
    }
    default:
        return 0;
    }
    if (rc > 0) {
        s->start[m->slot] = start;
        s->len[m->slot] = s->out.len - start;
    }
    return rc;
}

static int scan_object(Scan *s, const Spec *spec) {
    if (s->p >= s->end || *s->p != '{') {
        return 0;
    }
    s->p++;
    unsigned int seen = 0;
    int found = 0, next = 0;
    skip_ws(s);
    if (s->p < s->end && *s->p == '}') {
        return 0; /* every receipt object has members */
    }
    for (;;) {
        skip_ws(s);
        /* a key: plain ASCII only (an escaped key is left to Python) */
        if (s->p >= s->end || *s->p != '"') {
            return 0;
        }
        const unsigned char *k = ++s->p;
        while (s->p < s->end && *s->p != '"' && *s->p != '\\' && *s->p >= 0x20 && *s->p < 0x7f) {
            s->p++;
        }
        if (s->p >= s->end || *s->p != '"') {
            return 0;
        }
        Py_ssize_t klen = s->p - k;
        s->p++;
        const Member *m = NULL;
        int index = next < spec->count ? next : 0;  /* a canonical line has the members in this order */
        for (int tried = 0; tried < spec->count; tried++, index = (index + 1) % spec->count) {
            const Member *c = &spec->members[index];
            if (c->name_len == klen && memcmp(c->name, k, (size_t)klen) == 0) {
                m = c;
                break;
            }
        }
        next = index + 1;
        if (m == NULL || (seen & (1u << index))) {
            return 0; /* an unknown or repeated key */
        }
        seen |= 1u << index;
        found++;
        skip_ws(s);
        if (s->p >= s->end || *s->p != ':') {
            return 0;
        }
        s->p++;
        int rc = scan_value(s, m);
        if (rc <= 0) {
            return rc;
        }
        skip_ws(s);
        if (s->p < s->end && *s->p == ',') {
            s->p++;
            continue;
        }
        if (s->p < s->end && *s->p == '}') {
            s->p++;
            break;
        }
        return 0;
    }
    return found == spec->count ? 1 : 0;
}

/* The canonical hash input, from the kept values: members in sorted order, hash members left out. */
static int assemble(Scan *s, const Spec *spec, Buf *out, int top) {
    if (buf_byte(out, '{') < 0) {
        return -1;
    }
    int first = 1;
    for (int i = 0; i < spec->count; i++) {
        const Member *m = &spec->members[i];
        if (top && (m->slot == S_PREVIOUS || m->slot == S_HASH)) {
            continue;
        }
        if (!first && buf_byte(out, ',') < 0) {
            return -1;
        }
        first = 0;
        if (buf_byte(out, '"') < 0 || buf_put(out, m->name, m->name_len) < 0 || BUF_LIT(out, "\":") < 0) {
            return -1;
        }
        if (m->type == F_OBJECT) {
            if (assemble(s, m->object, out, 0) < 0) {
                return -1;
            }
        } else if (buf_put(out, s->out.data + s->start[m->slot], s->len[m->slot]) < 0) {
            return -1;
        }
    }
    return buf_byte(out, '}');
}

static int slot_is(Scan *s, int slot, const char *text, Py_ssize_t n) {
    return s->len[slot] == n && memcmp(s->out.data + s->start[slot], text, (size_t)n) == 0;
}

#define SLOT_IS(s, slot, lit) slot_is((s), (slot), (lit), (Py_ssize_t)(sizeof(lit) - 1))

/* The receipt's kind, as verify._tally counts it: 0 approval, 1 denial, 2 outcome, 3 escalation, 4 session event. */
static int kind_of(Scan *s) {
    if (SLOT_IS(s, S_A_OPERATION, "\"outcome\"")) {
        return 2;
    }
    if (SLOT_IS(s, S_A_OPERATION, "\"escalation\"")) {
        return 3;
    }
    if (SLOT_IS(s, S_A_OPERATION, "\"posture\"") || SLOT_IS(s, S_A_OPERATION, "\"reload\"")) {
        return 4;
    }
    return SLOT_IS(s, S_R_STATUS, "\"blocked\"") ? 1 : 0;
}

static PyObject *slot_text(Scan *s, int slot) {
    if (SLOT_IS(s, slot, "null")) {
        return Py_NewRef(Py_None);
    }
    return PyUnicode_DecodeASCII(s->out.data + s->start[slot] + 1, s->len[slot] - 2, NULL);
}

/* One line checked in full: 1 valid with a matching hash (its values kept in s), 0 not answered, -1 error.
 * `input` is scratch space for the hash input. */
static int scan_line(Scan *s, Buf *input, const unsigned char *p, Py_ssize_t len) {
    s->p = p;
    s->end = p + len;
    s->sequence = 0;
    s->out.len = 0;
    input->len = 0;
    skip_ws(s);
    int rc = scan_object(s, &receipt_spec);
    if (rc > 0) {
        skip_ws(s);
        rc = s->p == s->end ? 1 : 0; /* nothing after the object but whitespace (the newline) */
    }
    if (rc > 0) {
        char digest[SHA256_HEX];
        if (assemble(s, &receipt_spec, input, 1) < 0 || sha256_hex(input->data, input->len, digest) < 0) {
            rc = -1;
        } else if (memcmp(digest, s->out.data + s->start[S_HASH] + 1, SHA256_HEX) != 0) {
            rc = 0; /* a mismatch is worded by the general path */
        }
    }
    return rc;
}

PyObject *native_scan_receipt(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 1) {
        PyErr_SetString(PyExc_TypeError, "scan_receipt takes one line");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    Scan s;
    buf_init(&s.out);
    Buf input;
    buf_init(&input);
    PyObject *result = NULL;
    int rc = scan_line(&s, &input, view.buf, view.len);
    if (rc > 0) {
        PyObject *rid = slot_text(&s, S_RECEIPT_ID), *sid = slot_text(&s, S_SESSION_ID);
        PyObject *stored = slot_text(&s, S_HASH), *prev = slot_text(&s, S_PREVIOUS);
        PyObject *seq = PyLong_FromLongLong(s.sequence), *kind = PyLong_FromLong(kind_of(&s));
        if (rid && sid && stored && prev && seq && kind) {
            result = PyTuple_Pack(6, rid, sid, seq, stored, prev, kind);
        }
        Py_XDECREF(rid);
        Py_XDECREF(sid);
        Py_XDECREF(stored);
        Py_XDECREF(prev);
        Py_XDECREF(seq);
        Py_XDECREF(kind);
    } else if (rc == 0) {
        result = Py_NewRef(Py_None);
    }
    buf_free(&s.out);
    buf_free(&input);
    PyBuffer_Release(&view);
    return result;
}

/* -- RangeScanner: a byte range of a log, line after line, as verify._scan_range does it ------------------ */

/* CRC-32 (IEEE, reflected), as zlib.crc32: buckets receipt ids for the duplicate check. */
static uint32_t crc_table[256];

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        }
        crc_table[i] = c;
    }
}

static uint32_t crc32_of(const char *p, Py_ssize_t n) {
    uint32_t c = 0xffffffffu;
    for (Py_ssize_t i = 0; i < n; i++) {
        c = crc_table[(c ^ (unsigned char)p[i]) & 0xff] ^ (c >> 8);
    }
    return c ^ 0xffffffffu;
}

#define SID_CACHE 16

typedef struct {
    PyObject_HEAD
    PyObject *sessions; /* dict: session id -> [first seq, first prev, first line, first receipt id, last seq, last hash] */
    PyObject *parts;    /* list of lists: (line, receipt id, session id, seq) per duplicate-check bucket */
    PyObject *problems; /* list: (line, receipt id, session id, seq, prev, last seq, last hash) of broken links */
    Py_ssize_t buckets;
    long long receipts;
    long long kinds[5];
    PyObject *sid_cache[SID_CACHE]; /* recent session ids (str), to reuse one object per session */
    int sid_next;
    Scan scan;
    Buf input;
} RangeScanner;

static void RangeScanner_dealloc(RangeScanner *self) {
    Py_XDECREF(self->sessions);
    Py_XDECREF(self->parts);
    Py_XDECREF(self->problems);
    for (int i = 0; i < SID_CACHE; i++) {
        Py_XDECREF(self->sid_cache[i]);
    }
    buf_free(&self->scan.out);
    buf_free(&self->input);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *RangeScanner_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    PyObject *sessions, *parts, *problems;
    if (!PyArg_ParseTuple(args, "O!O!O!:RangeScanner", &PyDict_Type, &sessions, &PyList_Type, &parts, &PyList_Type,
                          &problems)) {
        return NULL;
    }
    Py_ssize_t buckets = PyList_GET_SIZE(parts);
    for (Py_ssize_t i = 0; i < buckets; i++) {
        if (!PyList_Check(PyList_GET_ITEM(parts, i))) {
            PyErr_SetString(PyExc_TypeError, "parts is a list of lists");
            return NULL;
        }
    }
    if (buckets < 1) {
        PyErr_SetString(PyExc_ValueError, "at least one bucket");
        return NULL;
    }
    RangeScanner *self = (RangeScanner *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->sessions = Py_NewRef(sessions);
    self->parts = Py_NewRef(parts);
    self->problems = Py_NewRef(problems);
    self->buckets = buckets;
    buf_init(&self->scan.out);
    buf_init(&self->input);
    return (PyObject *)self;
}

/* The str of a plain ASCII chain field (its canonical text without the quotes). */
static PyObject *span_text(Scan *s, int slot) {
    return PyUnicode_DecodeASCII(s->out.data + s->start[slot] + 1, s->len[slot] - 2, NULL);
}

static PyObject *session_text(RangeScanner *self) {
    Scan *s = &self->scan;
    const char *t = s->out.data + s->start[S_SESSION_ID] + 1;
    Py_ssize_t n = s->len[S_SESSION_ID] - 2;
    for (int i = 0; i < SID_CACHE; i++) {
        PyObject *c = self->sid_cache[i];
        if (c != NULL && PyUnicode_GET_LENGTH(c) == n && memcmp(PyUnicode_DATA(c), t, (size_t)n) == 0) {
            return Py_NewRef(c);
        }
    }
    PyObject *sid = PyUnicode_DecodeASCII(t, n, NULL);
    if (sid != NULL) {
        Py_XSETREF(self->sid_cache[self->sid_next], Py_NewRef(sid));
        self->sid_next = (self->sid_next + 1) % SID_CACHE;
    }
    return sid;
}

/* One valid line into the range's state: its kind, its id, its link to the session's previous receipt. */
static int take(RangeScanner *self, long long line) {
    Scan *s = &self->scan;
    PyObject *sid = session_text(self);
    PyObject *rid = span_text(s, S_RECEIPT_ID);
    PyObject *seq = PyLong_FromLongLong(s->sequence);
    PyObject *stored = span_text(s, S_HASH);
    PyObject *n = PyLong_FromLongLong(line);
    PyObject *prev = SLOT_IS(s, S_PREVIOUS, "null") ? Py_NewRef(Py_None) : span_text(s, S_PREVIOUS);
    PyObject *record = NULL;
    int rc = -1;
    if (!sid || !rid || !seq || !stored || !n || !prev) {
        goto done;
    }
    record = PyTuple_Pack(4, n, rid, sid, seq);
    if (record == NULL) {
        goto done;
    }
    Py_ssize_t bucket = self->buckets == 1 ? 0 : (Py_ssize_t)(crc32_of(s->out.data + s->start[S_RECEIPT_ID] + 1,
                                                                         s->len[S_RECEIPT_ID] - 2) % (uint32_t)self->buckets);
    if (PyList_Append(PyList_GET_ITEM(self->parts, bucket), record) < 0) {
        goto done;
    }
    PyObject *state = PyDict_GetItemWithError(self->sessions, sid); /* borrowed */
    if (state == NULL) {
        if (PyErr_Occurred()) {
            goto done;
        }
        PyObject *fresh = PyList_New(6);
        if (fresh == NULL) {
            goto done;
        }
        PyObject *items[6] = {seq, prev, n, rid, seq, stored};
        for (int i = 0; i < 6; i++) {
            PyList_SET_ITEM(fresh, i, Py_NewRef(items[i]));
        }
        rc = PyDict_SetItem(self->sessions, sid, fresh);
        Py_DECREF(fresh);
        goto done;
    }
    if (!PyList_CheckExact(state) || PyList_GET_SIZE(state) != 6) {
        PyErr_SetString(PyExc_TypeError, "a session's state is a list of six");
        goto done;
    }
    PyObject *last_seq = PyList_GET_ITEM(state, 4), *last_hash = PyList_GET_ITEM(state, 5);
    int linked = 0;
    if (PyLong_CheckExact(last_seq)) {
        int overflow = 0;
        long long last = PyLong_AsLongLongAndOverflow(last_seq, &overflow);
        if (!overflow && !(last == -1 && PyErr_Occurred()) && last + 1 == s->sequence && prev != Py_None) {
            int same = PyUnicode_Compare(prev, last_hash);
            if (same == -1 && PyErr_Occurred()) {
                goto done;
            }
            linked = same == 0;
        }
        PyErr_Clear();
    }
    if (!linked) {
        PyObject *problem = PyTuple_Pack(7, n, rid, sid, seq, prev, last_seq, last_hash);
        if (problem == NULL || PyList_Append(self->problems, problem) < 0) {
            Py_XDECREF(problem);
            goto done;
        }
        Py_DECREF(problem);
    }
    PyList_SetItem(state, 4, Py_NewRef(seq));
    PyList_SetItem(state, 5, Py_NewRef(stored));
    rc = 0;
done:
    Py_XDECREF(sid);
    Py_XDECREF(rid);
    Py_XDECREF(seq);
    Py_XDECREF(stored);
    Py_XDECREF(n);
    Py_XDECREF(prev);
    Py_XDECREF(record);
    if (rc == 0) {
        self->receipts++;
        self->kinds[kind_of(s)]++;
    }
    return rc;
}

/* feed(block, pos, line) -> (status, pos, line): the whole lines of block from pos, until
 *   0: the block is done; 1: the line at pos needs the general path (Python takes it, then feeds on
 *   after it); 2: the rest of the block (from pos) has no newline. `line` counts lines before pos. */
static PyObject *RangeScanner_feed(RangeScanner *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "feed(block, pos, line)");
        return NULL;
    }
    Py_ssize_t pos = PyLong_AsSsize_t(args[1]);
    long long line = PyLong_AsLongLong(args[2]);
    if (PyErr_Occurred()) {
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    const unsigned char *data = view.buf;
    int status = 0;
    PyObject *result = NULL;
    if (pos < 0 || pos > view.len) {
        PyErr_SetString(PyExc_ValueError, "pos outside the block");
        goto finish;
    }
    while (pos < view.len) {
        const unsigned char *nl = memchr(data + pos, '\n', (size_t)(view.len - pos));
        if (nl == NULL) {
            status = 2;
            break;
        }
        Py_ssize_t len = nl - (data + pos) + 1;
        if (len >= 2 && data[pos + len - 2] == '\r') {
            status = 1; /* a CR LF ending: the general path warns about it */
            break;
        }
        int rc = scan_line(&self->scan, &self->input, data + pos, len);
        if (rc < 0) {
            goto finish;
        }
        if (rc == 0) {
            status = 1;
            break;
        }
        if (take(self, line + 1) < 0) {
            goto finish;
        }
        line++;
        pos += len;
    }
    result = Py_BuildValue("(inL)", status, pos, line);
finish:
    PyBuffer_Release(&view);
    return result;
}

static PyObject *RangeScanner_counts(RangeScanner *self, void *closure) {
    return Py_BuildValue("(LLLLLL)", self->receipts, self->kinds[0], self->kinds[1], self->kinds[2], self->kinds[3],
                         self->kinds[4]);
}

static PyMethodDef RangeScanner_methods[] = {
    {"feed", (PyCFunction)(void (*)(void))RangeScanner_feed, METH_FASTCALL,
     "feed(block, pos, line) -> (status, pos, line); see verify._scan_range."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef RangeScanner_getset[] = {
    {"counts", (getter)RangeScanner_counts, NULL,
     "(receipts, approvals, denials, outcomes, escalations, session events) of the lines taken here", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject RangeScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "spinegate._native.RangeScanner",
    .tp_doc = "RangeScanner(sessions, parts, problems): checks whole lines of a log range (verify._scan_range).",
    .tp_basicsize = sizeof(RangeScanner),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = RangeScanner_new,
    .tp_dealloc = (destructor)RangeScanner_dealloc,
    .tp_methods = RangeScanner_methods,
    .tp_getset = RangeScanner_getset,
};

int verify_init_type(PyObject *module) {
    crc_init();
    if (PyType_Ready(&RangeScannerType) < 0) {
        return -1;
    }
    return PyModule_AddObjectRef(module, "RangeScanner", (PyObject *)&RangeScannerType);
}
