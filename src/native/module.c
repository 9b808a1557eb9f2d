/* spinegate._native: the module, and the platform services the receipt path needs.
 *
 * SHA-256 comes from the platform: OpenSSL's libcrypto on Linux (the library
 * CPython's own hashlib uses, with its SHA extensions and vector code), and
 * CommonCrypto on macOS (part of the system). Random bytes come from the
 * kernel (getrandom on Linux, arc4random on macOS), read 4 KiB at a time into
 * a pool that is wiped as it is used and dropped in a forked child, so parent
 * and child never hand out the same receipt id. Everything here runs with
 * the GIL held, which serialises the pool and the timestamp cache.
 */
#include "native.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <structmember.h>

#if defined(__APPLE__)
#include <CommonCrypto/CommonDigest.h>
#include <stdlib.h>
#define SHA256_BACKEND "CommonCrypto"
#else
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <sys/random.h>
#define SHA256_BACKEND "OpenSSL libcrypto"
#endif

PyObject *NotHandled = NULL;

/* -- SHA-256 --------------------------------------------------------------------------------- */

static const char HEXDIGITS[] = "0123456789abcdef";

#if !defined(__APPLE__)
static const EVP_MD *sha256_md = NULL;
static EVP_MD_CTX *sha256_ctx = NULL; /* used under the GIL only */

static int sha256_setup(void) {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL); /* fetched once: no provider lookup per hash */
#else
    sha256_md = EVP_sha256();
#endif
    sha256_ctx = EVP_MD_CTX_new();
    if (sha256_md == NULL || sha256_ctx == NULL) {
        PyErr_SetString(PyExc_ImportError, "OpenSSL's libcrypto has no usable SHA-256");
        return -1;
    }
    return 0;
}
#endif

int sha256_hex(const char *data, Py_ssize_t n, char out[SHA256_HEX]) {
    unsigned char md[SHA256_BYTES];
#if defined(__APPLE__)
    CC_SHA256(data, (CC_LONG)n, md);
#else
    unsigned int size = 0;
    if (EVP_DigestInit_ex(sha256_ctx, sha256_md, NULL) != 1 || EVP_DigestUpdate(sha256_ctx, data, (size_t)n) != 1
        || EVP_DigestFinal_ex(sha256_ctx, md, &size) != 1 || size != SHA256_BYTES) {
        PyErr_SetString(PyExc_RuntimeError, "OpenSSL's SHA-256 failed");
        return -1;
    }
#endif
    for (int i = 0; i < SHA256_BYTES; i++) {
        out[2 * i] = HEXDIGITS[md[i] >> 4];
        out[2 * i + 1] = HEXDIGITS[md[i] & 0xf];
    }
    return 0;
}

/* -- random bytes ----------------------------------------------------------------------------- */

#if !defined(__APPLE__)
static unsigned char pool[4096];
static size_t pool_left = 0;

static void forget_pool(void) {
    memset(pool, 0, sizeof pool);
    pool_left = 0;
}
#endif

int random_bytes(unsigned char *out, size_t n) {
#if defined(__APPLE__)
    arc4random_buf(out, n);
    return 0;
#else
    if (n > sizeof pool) {
        PyErr_SetString(PyExc_ValueError, "too many random bytes at once");
        return -1;
    }
    if (n > pool_left) {
        size_t got = 0;
        while (got < sizeof pool) {
            ssize_t k = getrandom(pool + got, sizeof pool - got, 0);
            if (k < 0) {
                if (errno == EINTR) {
                    continue;
                }
                PyErr_SetFromErrno(PyExc_OSError);
                return -1;
            }
            got += (size_t)k;
        }
        pool_left = sizeof pool;
    }
    unsigned char *from = pool + (sizeof pool - pool_left);
    memcpy(out, from, n);
    memset(from, 0, n); /* used bytes do not stay in memory */
    pool_left -= n;
    return 0;
#endif
}

int new_uuid4(char out[36]) {
    unsigned char raw[16];
    if (random_bytes(raw, sizeof raw) < 0) {
        return -1;
    }
    raw[6] = (unsigned char)((raw[6] & 0x0f) | 0x40); /* version 4 */
    raw[8] = (unsigned char)((raw[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    int k = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out[k++] = '-';
        }
        out[k++] = HEXDIGITS[raw[i] >> 4];
        out[k++] = HEXDIGITS[raw[i] & 0xf];
    }
    return 0;
}

/* -- timestamps ------------------------------------------------------------------------------ */

static int64_t cached_second = INT64_MIN;
static char cached_text[20];

int utc_timestamp(char out[32]) {
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    /* as time.time_ns() // 1000, then divmod by 10**6 (floor, also before 1970) */
    int64_t micros = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    int64_t second = micros >= 0 ? micros / 1000000 : -((-micros + 999999) / 1000000);
    int64_t fraction = micros - second * 1000000;
    if (second != cached_second) {
        time_t t = (time_t)second;
        struct tm tm;
        if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 1000 || tm.tm_year + 1900 > 9999
            || strftime(cached_text, sizeof cached_text, "%Y-%m-%dT%H:%M:%S", &tm) != 19) {
            PyErr_SetString(PyExc_OverflowError, "the clock is outside years 1000-9999");
            return -1;
        }
        cached_second = second;
    }
    memcpy(out, cached_text, 19);
    out[19] = '.';
    for (int i = 25; i >= 20; i--) {
        out[i] = (char)('0' + fraction % 10);
        fraction /= 10;
    }
    memcpy(out + 26, "+00:00", 6);
    return 0;
}

/* -- module functions -------------------------------------------------------------------------- */

static PyObject *native_sha256_hex(PyObject *self, PyObject *arg) {
    char hex[SHA256_HEX];
    if (PyUnicode_Check(arg)) {
        Py_ssize_t n;
        const char *u = PyUnicode_AsUTF8AndSize(arg, &n); /* UnicodeEncodeError for lone surrogates, as encode() */
        if (u == NULL || sha256_hex(u, n, hex) < 0) {
            return NULL;
        }
    } else {
        Py_buffer view;
        if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) {
            return NULL;
        }
        int rc = sha256_hex(view.buf, view.len, hex);
        PyBuffer_Release(&view);
        if (rc < 0) {
            return NULL;
        }
    }
    return PyUnicode_DecodeASCII(hex, SHA256_HEX, NULL);
}

static PyObject *native_receipt_id(PyObject *self, PyObject *unused) {
    char text[36];
    if (new_uuid4(text) < 0) {
        return NULL;
    }
    return PyUnicode_DecodeASCII(text, 36, NULL);
}

static PyObject *native_timestamp(PyObject *self, PyObject *unused) {
    char text[32];
    if (utc_timestamp(text) < 0) {
        return NULL;
    }
    return PyUnicode_DecodeASCII(text, 32, NULL);
}

/* -- SlotBuilder: instances of a slotted class, filled without running __init__ ------------------ */

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyTypeObject *cls;
    Py_ssize_t count;
    Py_ssize_t *offsets;
} SlotBuilder;

static PyObject *SlotBuilder_call(SlotBuilder *self, PyObject *const *args, size_t nargsf, PyObject *kwnames);

static void SlotBuilder_dealloc(SlotBuilder *self) {
    Py_XDECREF(self->cls);
    PyMem_Free(self->offsets);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *SlotBuilder_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    PyObject *cls, *names;
    if (!PyArg_ParseTuple(args, "O!O!:SlotBuilder", &PyType_Type, &cls, &PyTuple_Type, &names)) {
        return NULL;
    }
    PyTypeObject *tp = (PyTypeObject *)cls;
    /* Every slot the instance has must be one of the class's own, named here: its bases (object, or
     * abstract bases with empty __slots__) may add none, and no instance dictionary. */
    PyObject *mro = tp->tp_mro;
    int plain = tp->tp_dictoffset == 0 && mro != NULL && PyTuple_Check(mro);
    for (Py_ssize_t i = 1; plain && i < PyTuple_GET_SIZE(mro); i++) {
        PyTypeObject *base = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
        if (base->tp_dictoffset != 0) {
            plain = 0;
        }
        for (PyMemberDef *m = base->tp_members; plain && m != NULL && m->name != NULL; m++) {
            if (m->type == T_OBJECT_EX || m->type == T_OBJECT) {
                plain = 0;
            }
        }
    }
    if (!plain) {
        PyErr_SetString(PyExc_TypeError, "SlotBuilder takes a class whose instances hold only its own __slots__");
        return NULL;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(names);
    SlotBuilder *self = (SlotBuilder *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->offsets = PyMem_Calloc((size_t)(n ? n : 1), sizeof(Py_ssize_t));
    if (self->offsets == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    Py_ssize_t members = 0;
    for (PyMemberDef *m = tp->tp_members; m != NULL && m->name != NULL; m++) {
        if (m->type == T_OBJECT_EX) {
            members++;
        }
    }
    if (members != n) {
        Py_DECREF(self);
        PyErr_SetString(PyExc_TypeError, "SlotBuilder needs every slot of the class named once");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *descr = PyDict_GetItemWithError(tp->tp_dict, PyTuple_GET_ITEM(names, i));
        if (descr == NULL || !PyObject_TypeCheck(descr, &PyMemberDescr_Type)) {
            Py_DECREF(self);
            if (!PyErr_Occurred()) {
                PyErr_SetString(PyExc_TypeError, "SlotBuilder: a name is not a slot of the class");
            }
            return NULL;
        }
        PyMemberDef *m = ((PyMemberDescrObject *)descr)->d_member;
        if (m->type != T_OBJECT_EX) {
            Py_DECREF(self);
            PyErr_SetString(PyExc_TypeError, "SlotBuilder: a slot is not an object slot");
            return NULL;
        }
        for (Py_ssize_t j = 0; j < i; j++) {
            if (self->offsets[j] == m->offset) {
                Py_DECREF(self);
                PyErr_SetString(PyExc_TypeError, "SlotBuilder: a slot is named twice");
                return NULL;
            }
        }
        self->offsets[i] = m->offset;
    }
    self->cls = (PyTypeObject *)Py_NewRef(cls);
    self->count = n;
    self->vectorcall = (vectorcallfunc)SlotBuilder_call;
    return (PyObject *)self;
}

static PyObject *SlotBuilder_call(SlotBuilder *self, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    if (n != self->count || kwnames != NULL) {
        PyErr_Format(PyExc_TypeError, "expected %zd positional values", self->count);
        return NULL;
    }
    PyObject *obj = self->cls->tp_alloc(self->cls, 0);
    if (obj == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        *(PyObject **)((char *)obj + self->offsets[i]) = Py_NewRef(args[i]);
    }
    return obj;
}

static PyObject *SlotBuilder_tp_call(PyObject *self, PyObject *args, PyObject *kwds) {
    return PyVectorcall_Call(self, args, kwds);
}

static PyTypeObject SlotBuilderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "spinegate._native.SlotBuilder",
    .tp_doc = "SlotBuilder(cls, names): cls(*values) filled slot by slot, without running __init__.",
    .tp_basicsize = sizeof(SlotBuilder),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_vectorcall_offset = offsetof(SlotBuilder, vectorcall),
    .tp_new = SlotBuilder_new,
    .tp_dealloc = (destructor)SlotBuilder_dealloc,
    .tp_call = SlotBuilder_tp_call,
};

/* -- unchanged: objects' attribute dictionaries against a snapshot, by identity ------------------- */

/* A dictionary equal to `expected` key for key, in the same order, every key and value the very same
 * object: 1; anything else 0 (the caller then compares by equality, the slow and exact way). */
static int same_items(PyObject *d, PyObject *expected) {
    if (!PyDict_Check(d) || !PyDict_Check(expected) || PyDict_GET_SIZE(d) != PyDict_GET_SIZE(expected)) {
        return 0;
    }
    Py_ssize_t i = 0, j = 0;
    PyObject *k1, *v1, *k2, *v2;
    while (PyDict_Next(d, &i, &k1, &v1)) {
        if (!PyDict_Next(expected, &j, &k2, &v2) || k1 != k2 || v1 != v2) {
            return 0;
        }
    }
    return 1;
}

/* same_state(objects, dicts, index, expected_index) -> bool: True when each object's __dict__ holds
 * exactly what the matching snapshot dict holds (same keys, same objects, same order), and so does
 * the index. False proves nothing (an equal value that is another object): compare by equality then. */
static PyObject *native_same_state(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4 || !PyTuple_Check(args[0]) || !PyTuple_Check(args[1])
        || PyTuple_GET_SIZE(args[0]) != PyTuple_GET_SIZE(args[1])) {
        PyErr_SetString(PyExc_TypeError, "same_state(objects tuple, dicts tuple, index, expected index)");
        return NULL;
    }
    if (!same_items(args[2], args[3])) {
        Py_RETURN_FALSE;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(args[0]);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *d = PyObject_GenericGetDict(PyTuple_GET_ITEM(args[0], i), NULL); /* the instance's own */
        if (d == NULL) {
            PyErr_Clear();
            Py_RETURN_FALSE;
        }
        int same = same_items(d, PyTuple_GET_ITEM(args[1], i));
        Py_DECREF(d);
        if (!same) {
            Py_RETURN_FALSE;
        }
    }
    Py_RETURN_TRUE;
}

/* -- the module --------------------------------------------------------------------------------- */

static PyMethodDef methods[] = {
    {"canonical_json", native_canonical_json, METH_O,
     "canonical_json(value) -> str, or NOT_HANDLED: json.dumps(value, sort_keys=True, separators=(',', ':'))."},
    {"arguments_digest", native_arguments_digest, METH_O,
     "arguments_digest(value) -> (canonical text, its SHA-256 hex), or NOT_HANDLED."},
    {"sha256_hex", native_sha256_hex, METH_O, "sha256_hex(bytes or str) -> lowercase hex (str as UTF-8)."},
    {"receipt_id", native_receipt_id, METH_NOARGS, "receipt_id() -> a random version 4 UUID, as text."},
    {"timestamp", native_timestamp, METH_NOARGS, "timestamp() -> the current UTC time, as receipts write it."},
    {"same_state", (PyCFunction)(void (*)(void))native_same_state, METH_FASTCALL,
     "same_state(objects, dicts, index, expected_index) -> True when each object's __dict__ (and the index) "
     "holds the very same keys and values, in order, as its snapshot; False: compare by equality."},
    {"scan_receipt", (PyCFunction)(void (*)(void))native_scan_receipt, METH_FASTCALL,
     "scan_receipt(line) -> the chain fields of a schema-valid receipt line whose hash matches, else None."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "spinegate._native",
    .m_doc = "spinegate's native receipt path: canonical JSON, sealing, SHA-256, ids, one-pass verification.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__native(void) {
#if !defined(__APPLE__)
    if (sha256_setup() < 0) {
        return NULL;
    }
    if (pthread_atfork(NULL, NULL, forget_pool) != 0) {
        PyErr_SetString(PyExc_ImportError, "cannot register the random pool's fork handler");
        return NULL;
    }
#endif
    if (PyType_Ready(&SlotBuilderType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&module_def);
    if (m == NULL) {
        return NULL;
    }
    NotHandled = PyObject_CallNoArgs((PyObject *)&PyBaseObject_Type);
    if (NotHandled == NULL || PyModule_AddObjectRef(m, "NOT_HANDLED", NotHandled) < 0
        || PyModule_AddObjectRef(m, "SlotBuilder", (PyObject *)&SlotBuilderType) < 0
        || PyModule_AddStringConstant(m, "SHA256_BACKEND", SHA256_BACKEND) < 0 || seal_init_type(m) < 0
        || verify_init_type(m) < 0) {
        Py_DECREF(m);
        return NULL;
    }
#if !defined(__APPLE__)
    if (PyModule_AddStringConstant(m, "OPENSSL_VERSION", OpenSSL_version(OPENSSL_VERSION)) < 0) {
        Py_DECREF(m);
        return NULL;
    }
#endif
    return m;
}
