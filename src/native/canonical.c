/* Canonical JSON, byte for byte as json.dumps(value, sort_keys=True, separators=(",", ":")) writes it.
 *
 * Strings as json's encode_basestring_ascii (ensure_ascii: every character
 * outside printable ASCII as a lowercase \uXXXX escape, surrogate pairs above
 * U+FFFF), ints as int.__repr__, floats as float.__repr__ (NaN, Infinity and
 * -Infinity as json writes them), keys sorted by code point. Only plain data
 * is taken here: exact dicts with exact str keys, exact lists and tuples, str,
 * int, float, bool and None, nested at most MAX_DEPTH deep. Anything else
 * (subclassed containers, objects, mixed keys, deep nesting) returns the
 * module's NotHandled marker and the caller takes the pure-Python path, which
 * decides what json.dumps would do. tests/perf holds this to json.dumps.
 */
#include "native.h"

#include <math.h>

#define MAX_DEPTH 100

static const char HEX[] = "0123456789abcdef";

int buf_grow(Buf *b, Py_ssize_t extra) {
    Py_ssize_t want = b->len + extra;
    Py_ssize_t cap = b->cap;
    while (cap < want) {
        if (cap > PY_SSIZE_T_MAX / 2) {
            PyErr_NoMemory();
            return -1;
        }
        cap *= 2;
    }
    char *fresh;
    if (b->data == b->inline_data) {
        fresh = PyMem_Malloc((size_t)cap);
        if (fresh != NULL) {
            memcpy(fresh, b->data, (size_t)b->len);
        }
    } else {
        fresh = PyMem_Realloc(b->data, (size_t)cap);
    }
    if (fresh == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = fresh;
    b->cap = cap;
    return 0;
}

static inline void put_u4(char *out, unsigned int c) {
    out[0] = '\\';
    out[1] = 'u';
    out[2] = HEX[(c >> 12) & 0xf];
    out[3] = HEX[(c >> 8) & 0xf];
    out[4] = HEX[(c >> 4) & 0xf];
    out[5] = HEX[c & 0xf];
}

int put_codepoint(Buf *b, Py_UCS4 c) {
    if (buf_reserve(b, 12) < 0) {
        return -1;
    }
    char *out = b->data + b->len;
    if (c >= ' ' && c <= '~' && c != '\\' && c != '"') {
        out[0] = (char)c;
        b->len += 1;
        return 0;
    }
    switch (c) {
    case '\\': out[0] = '\\'; out[1] = '\\'; b->len += 2; return 0;
    case '"': out[0] = '\\'; out[1] = '"'; b->len += 2; return 0;
    case '\b': out[0] = '\\'; out[1] = 'b'; b->len += 2; return 0;
    case '\f': out[0] = '\\'; out[1] = 'f'; b->len += 2; return 0;
    case '\n': out[0] = '\\'; out[1] = 'n'; b->len += 2; return 0;
    case '\r': out[0] = '\\'; out[1] = 'r'; b->len += 2; return 0;
    case '\t': out[0] = '\\'; out[1] = 't'; b->len += 2; return 0;
    default:
        break;
    }
    if (c >= 0x10000) {
        Py_UCS4 v = c - 0x10000;
        put_u4(out, 0xd800 | ((v >> 10) & 0x3ff));
        put_u4(out + 6, 0xdc00 | (v & 0x3ff));
        b->len += 12;
    } else {
        put_u4(out, (unsigned int)c);
        b->len += 6;
    }
    return 0;
}

/* True when json writes this byte of ASCII text as it is. */
static inline int plain_ascii(unsigned char c) {
    return c >= ' ' && c <= '~' && c != '\\' && c != '"';
}

int put_str(Buf *b, PyObject *s) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    if (kind == PyUnicode_1BYTE_KIND) {
        const unsigned char *p = (const unsigned char *)data;
        Py_ssize_t i = 0;
        while (i < n && plain_ascii(p[i])) {
            i++;
        }
        if (buf_reserve(b, n + 2) < 0) {
            return -1;
        }
        b->data[b->len++] = '"';
        memcpy(b->data + b->len, p, (size_t)i);
        b->len += i;
        for (; i < n; i++) {
            unsigned char c = p[i];
            if (plain_ascii(c)) {
                if (buf_byte(b, (char)c) < 0) {
                    return -1;
                }
            } else if (put_codepoint(b, c) < 0) {
                return -1;
            }
        }
        return buf_byte(b, '"');
    }
    if (buf_byte(b, '"') < 0) {
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (put_codepoint(b, PyUnicode_READ(kind, data, i)) < 0) {
            return -1;
        }
    }
    return buf_byte(b, '"');
}

/* A 64-bit integer in decimal, as int.__repr__ writes it. */
static int put_long_long(Buf *b, long long x) {
    char tmp[24];
    int k = (int)sizeof tmp;
    unsigned long long u = x < 0 ? 0ULL - (unsigned long long)x : (unsigned long long)x;
    do {
        tmp[--k] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    if (x < 0) {
        tmp[--k] = '-';
    }
    return buf_put(b, tmp + k, (Py_ssize_t)sizeof tmp - k);
}

int put_int(Buf *b, PyObject *v) {
    int overflow = 0;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (x == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (!overflow) {
        return put_long_long(b, x);
    }
    PyObject *text = PyLong_Type.tp_repr(v); /* int.__repr__, as json uses (ValueError past the digit limit) */
    if (text == NULL) {
        return -1;
    }
    Py_ssize_t n;
    const char *u = PyUnicode_AsUTF8AndSize(text, &n);
    int rc = u == NULL ? -1 : buf_put(b, u, n);
    Py_DECREF(text);
    return rc;
}

int put_float(Buf *b, PyObject *v, int allow_nonfinite) {
    double x = PyFloat_AS_DOUBLE(v);
    if (!isfinite(x)) {
        if (!allow_nonfinite) {
            PyErr_SetString(PyExc_ValueError, "a receipt number must be finite");
            return -1;
        }
        if (isnan(x)) {
            return BUF_LIT(b, "NaN");
        }
        return x > 0 ? BUF_LIT(b, "Infinity") : BUF_LIT(b, "-Infinity");
    }
    if (x == 0.0 && !signbit(x)) {
        return BUF_LIT(b, "0.0"); /* the common case of risk and time figures, without a dtoa */
    }
    char *text = PyOS_double_to_string(x, 'r', 0, Py_DTSF_ADD_DOT_0, NULL); /* float.__repr__ */
    if (text == NULL) {
        return -1;
    }
    int rc = buf_put(b, text, (Py_ssize_t)strlen(text));
    PyMem_Free(text);
    return rc;
}

/* -- values ------------------------------------------------------------------------------------ */

/* 1 written, 0 not handled here (nothing useful in the buffer), -1 error. */
static int put_value(Buf *b, PyObject *v, int depth);

static int compare_keys(const void *x, const void *y) {
    /* exact str keys: PyUnicode_Compare orders by code point, as sorted() does, and cannot fail */
    return PyUnicode_Compare(*(PyObject *const *)x, *(PyObject *const *)y);
}

static int put_dict(Buf *b, PyObject *d, int depth) {
    Py_ssize_t n = PyDict_GET_SIZE(d);
    if (n == 0) {
        return BUF_LIT(b, "{}") < 0 ? -1 : 1;
    }
    PyObject *small[16];
    PyObject **keys = n <= 16 ? small : PyMem_Malloc(sizeof(PyObject *) * (size_t)n);
    if (keys == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t pos = 0, i = 0;
    PyObject *k, *val;
    int rc = 1;
    while (PyDict_Next(d, &pos, &k, &val)) {
        if (!PyUnicode_CheckExact(k) || i >= n) {
            rc = 0;
            goto done;
        }
        keys[i++] = k;
    }
    if (i != n) {
        rc = 0;
        goto done;
    }
    if (n <= 16) { /* insertion sort: small dicts are the common case */
        for (Py_ssize_t a = 1; a < n; a++) {
            PyObject *key = keys[a];
            Py_ssize_t c = a - 1;
            while (c >= 0 && PyUnicode_Compare(keys[c], key) > 0) {
                keys[c + 1] = keys[c];
                c--;
            }
            keys[c + 1] = key;
        }
    } else {
        qsort(keys, (size_t)n, sizeof(PyObject *), compare_keys);
    }
    if (buf_byte(b, '{') < 0) {
        rc = -1;
        goto done;
    }
    for (i = 0; i < n; i++) {
        if (i && buf_byte(b, ',') < 0) {
            rc = -1;
            goto done;
        }
        PyObject *value = PyDict_GetItemWithError(d, keys[i]); /* borrowed; the dict is not changed meanwhile */
        if (value == NULL) {
            rc = PyErr_Occurred() ? -1 : 0;
            goto done;
        }
        if (put_str(b, keys[i]) < 0 || buf_byte(b, ':') < 0) {
            rc = -1;
            goto done;
        }
        rc = put_value(b, value, depth + 1);
        if (rc <= 0) {
            goto done;
        }
    }
    rc = buf_byte(b, '}') < 0 ? -1 : 1;
done:
    if (keys != small) {
        PyMem_Free(keys);
    }
    return rc;
}

static int put_sequence(Buf *b, PyObject *const *items, Py_ssize_t n, int depth) {
    if (buf_byte(b, '[') < 0) {
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (i && buf_byte(b, ',') < 0) {
            return -1;
        }
        int rc = put_value(b, items[i], depth + 1);
        if (rc <= 0) {
            return rc;
        }
    }
    return buf_byte(b, ']') < 0 ? -1 : 1;
}

static int put_value(Buf *b, PyObject *v, int depth) {
    if (depth > MAX_DEPTH) {
        return 0;
    }
    if (v == Py_None) {
        return BUF_LIT(b, "null") < 0 ? -1 : 1;
    }
    if (v == Py_True) {
        return BUF_LIT(b, "true") < 0 ? -1 : 1;
    }
    if (v == Py_False) {
        return BUF_LIT(b, "false") < 0 ? -1 : 1;
    }
    if (PyUnicode_Check(v)) {
        return put_str(b, v) < 0 ? -1 : 1;
    }
    if (PyLong_Check(v)) {
        return put_int(b, v) < 0 ? -1 : 1;
    }
    if (PyFloat_Check(v)) {
        return put_float(b, v, 1) < 0 ? -1 : 1;
    }
    if (PyDict_CheckExact(v)) {
        return put_dict(b, v, depth);
    }
    if (PyList_CheckExact(v)) {
        /* the list cannot change under us: nothing here runs Python code */
        return put_sequence(b, &PyList_GET_ITEM(v, 0), PyList_GET_SIZE(v), depth);
    }
    if (PyTuple_CheckExact(v)) {
        return put_sequence(b, &PyTuple_GET_ITEM(v, 0), PyTuple_GET_SIZE(v), depth);
    }
    return 0;
}

/* The canonical text of `v` in `b`: 1, 0 (not handled), -1 (error). */
static int canonical(Buf *b, PyObject *v) {
    return put_value(b, v, 0);
}

PyObject *native_canonical_json(PyObject *self, PyObject *arg) {
    Buf b;
    buf_init(&b);
    int rc = canonical(&b, arg);
    PyObject *out = NULL;
    if (rc > 0) {
        out = PyUnicode_DecodeASCII(b.data, b.len, NULL);
    } else if (rc == 0) {
        out = Py_NewRef(NotHandled);
    }
    buf_free(&b);
    return out;
}

PyObject *native_arguments_digest(PyObject *self, PyObject *arg) {
    Buf b;
    buf_init(&b);
    int rc = canonical(&b, arg);
    PyObject *out = NULL;
    if (rc > 0) {
        char hex[SHA256_HEX];
        if (sha256_hex(b.data, b.len, hex) == 0) {
            PyObject *text = PyUnicode_DecodeASCII(b.data, b.len, NULL);
            PyObject *digest = text ? PyUnicode_DecodeASCII(hex, SHA256_HEX, NULL) : NULL;
            if (digest != NULL) {
                out = PyTuple_Pack(2, text, digest);
            }
            Py_XDECREF(text);
            Py_XDECREF(digest);
        }
    } else if (rc == 0) {
        out = Py_NewRef(NotHandled);
    }
    buf_free(&b);
    return out;
}
