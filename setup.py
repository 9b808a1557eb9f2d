"""The core distribution's native part: `spinegate._native`, built with the machine's C compiler.

Everything else is in pyproject.toml. The extension is optional: where it
cannot be built (no compiler, no OpenSSL headers on Linux), `pip install`
still succeeds and spinegate runs its pure-Python path, which
`spinegate --version` reports. SHA-256 comes from the platform: OpenSSL's
libcrypto on Linux (the library CPython's hashlib uses), CommonCrypto on macOS.
"""

from __future__ import annotations

import sys

from setuptools import Extension, setup

SOURCES = ["src/native/module.c", "src/native/canonical.c", "src/native/seal.c", "src/native/verify.c"]


def native_extension() -> list[Extension]:
    if sys.platform == "darwin":
        libraries: list[str] = []  # CommonCrypto is part of libSystem
    elif sys.platform.startswith("linux"):
        libraries = ["crypto"]
    else:  # not a supported platform: the pure-Python path only
        return []
    return [Extension("spinegate._native", sources=SOURCES, depends=["src/native/native.h"], libraries=libraries,
                      extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wno-missing-braces"], optional=True)]


setup(ext_modules=native_extension())
