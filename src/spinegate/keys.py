"""Ed25519 keys for signed checkpoints: create a key pair, load keys, name a key by its id.

Key files are read with care: a FIFO, device, directory or oversized file is
refused before it is read (no hang), and a private key others can read is
refused (POSIX). A signing key is a PEM file path or a loaded key.
"""

from __future__ import annotations

import hashlib
import os
import stat
from typing import Union

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .errors import KeyFileError

#: A signing key: a PEM file (as `spinegate keygen` writes it) or a loaded key.
SigningKey = Union[str, "os.PathLike[str]", Ed25519PrivateKey]
#: A verification key: a PEM file (NAME.pub from `spinegate keygen`) or a loaded key.
PublicKey = Union[str, "os.PathLike[str]", Ed25519PublicKey]
#: How public key files are named in a directory of trusted keys.
PUBLIC_KEY_SUFFIX = ".pub"

#: Largest key file read (a PEM Ed25519 key is about 120 bytes): a device or huge file is refused, not read.
MAX_KEY_FILE_BYTES = 16 * 1024


def key_id(public_key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte public key, lowercase hex."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def public_key_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def write_keypair(out: str | os.PathLike[str]) -> tuple[str, str, str]:
    """Create OUT (private key, PEM PKCS#8, mode 0600) and OUT.pub (public key, PEM).

    Both are created with O_EXCL: an existing file is never overwritten
    (FileExistsError). Returns (private path, public path, key id).
    """
    priv_path, pub_path = os.fspath(out), os.fspath(out) + ".pub"
    for p in (priv_path, pub_path):
        if os.path.lexists(p):
            raise FileExistsError(p)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    _write_new(priv_path, pem, 0o600)
    try:
        _write_new(pub_path, public_key_pem(key.public_key()), 0o644)
    except BaseException:
        os.unlink(priv_path)  # the key we just made and never handed out
        raise
    return priv_path, pub_path, key_id(key.public_key())


def _write_new(path: str, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), mode)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)  # exact mode, whatever the umask
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def load_private_key(path: str | os.PathLike[str] | Ed25519PrivateKey) -> Ed25519PrivateKey:
    """Read an unencrypted Ed25519 private key (PEM). Refuses files others can read (POSIX)."""
    if isinstance(path, Ed25519PrivateKey):
        return path
    p = os.fspath(path)
    data = _read_key_file(p, "signing key", owner_only=True)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyFileError(f"{p}: not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{p}: not an Ed25519 private key ({type(key).__name__})")
    return key


def load_public_key(path: str | os.PathLike[str] | Ed25519PublicKey) -> Ed25519PublicKey:
    """Read an Ed25519 public key (PEM, as `spinegate keygen` writes NAME.pub)."""
    if isinstance(path, Ed25519PublicKey):
        return path
    p = os.fspath(path)
    data = _read_key_file(p, "public key")
    if b"PRIVATE KEY-----" in data:
        raise KeyFileError(f"{p}: this is a private key; verify with the public key (NAME.pub from "
                           "`spinegate keygen`), and keep the private key off the verifying host")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyFileError(f"{p}: not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{p}: not an Ed25519 public key ({type(key).__name__})")
    return key


def load_public_keys(paths: list[str | os.PathLike[str]]) -> list[Ed25519PublicKey]:
    """Every trusted key named: a PEM file, or a directory whose `*.pub` files are each a public key.

    Fleets rotate keys, so a log may hold sessions signed by several. Files
    in a directory not ending in `.pub` are not read. Raises KeyFileError for
    a key that does not load, or a directory holding no `.pub` file.
    """
    keys: list[Ed25519PublicKey] = []
    for path in paths:
        p = os.fspath(path)
        if os.path.isdir(p):
            names = sorted(n for n in os.listdir(p) if n.endswith(PUBLIC_KEY_SUFFIX))
            if not names:
                raise KeyFileError(f"{p}: a directory of trusted keys, but it holds no {PUBLIC_KEY_SUFFIX} file")
            keys.extend(load_public_key(os.path.join(p, n)) for n in names)
        else:
            keys.append(load_public_key(p))
    return keys


def _read_key_file(p: str, what: str, *, owner_only: bool = False) -> bytes:
    """A key file's bytes. A FIFO, device, directory or oversized file is refused, never read (no hang).

    Opened non-blocking and checked with fstat, so a path swapped for a pipe
    between a check and the open cannot block the caller. `owner_only`
    refuses a file that group or others can read (POSIX).
    """
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise KeyFileError(f"{p}: cannot read the {what}: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise KeyFileError(f"{p}: cannot read the {what}: not a regular file (a directory, device or pipe)")
        if owner_only and os.name == "posix" and stat.S_IMODE(st.st_mode) & 0o077:
            raise KeyFileError(f"{p}: the private key is readable by other users; run `chmod 600 {p}`")
        if st.st_size > MAX_KEY_FILE_BYTES:
            raise KeyFileError(f"{p}: not a PEM {what}: {st.st_size} bytes, larger than any key file")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise KeyFileError(f"{p}: cannot read the {what}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
