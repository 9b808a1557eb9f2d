"""The registry: program name to table. One place to see every program the classifier knows.

Names are matched exactly (bash is case-sensitive), after the classifier
has taken the base name of a program named by a system path. Versioned
names (`python3.12`, `pip3.11`, `node20`) map to their family. A program
that is not here is SHELL_DANGEROUS.
"""

from __future__ import annotations

from ..model import Program
from . import common as c
from . import developer as d
from .system import DESTRUCTIVE, INTERPRETERS, NETWORK_OPAQUE, PRIVILEGED, SHELLS, WRAPPERS

PROGRAMS: dict[str, Program] = {
    "ls": c.LS, "dir": c.LS, "vdir": c.LS, "cat": c.CAT, "tac": c.TAC, "nl": c.NL, "head": c.HEAD,
    "tail": c.TAIL, "wc": c.WC, "sort": c.SORT, "uniq": c.UNIQ, "cut": c.CUT, "tr": c.TR, "info": c.INFO,
    "diff": c.DIFF,
    "cmp": c.CMP, "comm": c.COMM, "stat": c.STAT, "du": c.DU, "df": c.DF, "echo": c.ECHO, "printf": c.PRINTF,
    "basename": c.BASENAME, "dirname": c.DIRNAME, "realpath": c.REALPATH, "readlink": c.READLINK,
    "pwd": c.PWD, "whoami": c.WHOAMI, "id": c.ID, "groups": c.GROUPS, "date": c.DATE, "uname": c.UNAME,
    "which": c.WHICH, "whereis": c.WHICH, "file": c.FILE, "true": c.TRUE, "false": c.TRUE, "test": c.TEST,
    "[": c.TEST, "printenv": c.PRINTENV, "yes": c.YES, "sleep": c.SLEEP, "seq": c.SEQ, "expr": c.EXPR,
    "md5sum": c.CHECKSUM, "sha1sum": c.CHECKSUM, "sha224sum": c.CHECKSUM, "sha256sum": c.CHECKSUM,
    "sha384sum": c.CHECKSUM, "sha512sum": c.CHECKSUM, "b2sum": c.CHECKSUM, "shasum": c.CHECKSUM,
    "md5": c.CHECKSUM, "cksum": c.CKSUM, "sum": c.CKSUM, "base64": c.BASE64, "base32": c.BASE64,
    "basenc": c.BASE64, "od": c.OD, "hexdump": c.HEXDUMP, "xxd": c.XXD, "strings": c.STRINGS,
    "column": c.COLUMN, "fold": c.FOLD, "fmt": c.FMT, "paste": c.PASTE, "join": c.JOIN, "rev": c.REV,
    "shuf": c.SHUF, "tree": c.TREE, "less": c.LESS, "more": c.MORE, "ps": c.PS, "man": c.MAN,
    "uptime": c.UPTIME, "free": c.FREE, "tty": c.TTY, "locale": c.LOCALE, "arch": c.ARCH,
    "lsb_release": c.LSB_RELEASE, "getconf": c.GETCONF, "pstree": c.PSTREE, "pgrep": c.PGREP,
    "lsof": c.LSOF, "nproc": c.NPROC, "sw_vers": c.SW_VERS, "whatis": c.WHATIS, "apropos": c.WHATIS,
    "logname": c.LOGNAME, "users": c.USERS, "who": c.WHO, "w": c.W, "vm_stat": c.VM_STAT,
    "hostname": c.HOSTNAME, "expand": c.EXPAND, "unexpand": c.UNEXPAND, "numfmt": c.NUMFMT, "tsort": c.TSORT,
    "factor": c.FACTOR, "look": c.LOOK, "dig": c.DIG,
    "jq": c.JQ, "grep": c.GREP, "egrep": c.GREP, "fgrep": c.GREP, "rg": c.RG, "ag": c.AG, "sed": c.SED,
    "gsed": c.SED, "awk": c.AWK, "gawk": c.AWK, "mawk": c.AWK, "nawk": c.AWK,
    "mkdir": c.MKDIR, "touch": c.TOUCH, "cp": c.CP, "mv": c.MV, "ln": c.LN, "install": c.INSTALL, "tee": c.TEE,
    "rmdir": c.RMDIR, "mktemp": c.MKTEMP, "mkfifo": c.MKFIFO, "split": c.SPLIT, "csplit": c.CSPLIT,
    "patch": c.PATCH, "tar": c.TAR, "gtar": c.TAR, "bsdtar": c.TAR, "unzip": c.UNZIP, "zip": c.ZIP,
    "gzip": c.COMPRESS, "gunzip": c.COMPRESS, "bzip2": c.COMPRESS, "bunzip2": c.COMPRESS, "xz": c.COMPRESS,
    "unxz": c.COMPRESS, "zstd": c.COMPRESS, "unzstd": c.COMPRESS, "lzma": c.COMPRESS, "unlzma": c.COMPRESS,
    "zcat": c.COMPRESS, "bzcat": c.COMPRESS, "xzcat": c.COMPRESS, "zstdcat": c.COMPRESS,
    "curl": c.CURL, "wget": c.WGET, "ssh": c.SSH, "scp": c.SCP, "sftp": c.SFTP, "rsync": c.RSYNC,
    "nc": c.NC, "ncat": c.NC, "netcat": c.NC, "http": c.HTTPIE, "https": c.HTTPIE, "xh": c.HTTPIE,
    "git": d.GIT, "pip": d.PIP, "pip3": d.PIP, "npm": d.NODE_PM, "pnpm": d.NODE_PM, "yarn": d.NODE_PM,
    "go": d.GO, "cargo": d.CARGO, "uv": d.UV, "gem": d.GEM, "brew": d.BREW,
    "make": d.BUILD, "gmake": d.BUILD, "cmake": d.BUILD, "ninja": d.BUILD, "bazel": d.BUILD,
    "gradle": d.BUILD, "gradlew": d.BUILD, "mvn": d.BUILD, "ant": d.BUILD, "pytest": d.BUILD, "py.test": d.BUILD,
    "tox": d.BUILD, "nox": d.BUILD, "jest": d.BUILD, "vitest": d.BUILD, "mocha": d.BUILD, "rake": d.BUILD,
    "bundle": d.BUILD, "poetry": d.BUILD, "hatch": d.BUILD, "pdm": d.BUILD, "rye": d.BUILD, "conda": d.BUILD,
    "mamba": d.BUILD, "composer": d.BUILD, "dotnet": d.BUILD, "swift": d.BUILD, "rustc": d.BUILD,
    "gcc": d.BUILD, "g++": d.BUILD, "cc": d.BUILD, "c++": d.BUILD, "clang": d.BUILD, "clang++": d.BUILD,
    "javac": d.BUILD, "tsc": d.BUILD, "eslint": d.BUILD, "prettier": d.BUILD, "ruff": d.BUILD,
    "black": d.BUILD, "mypy": d.BUILD, "flake8": d.BUILD, "pylint": d.BUILD, "isort": d.BUILD,
    "pre-commit": d.BUILD, "webpack": d.BUILD, "vite": d.BUILD, "turbo": d.BUILD, "nx": d.BUILD,
    "deno": d.BUILD, "bun": d.BUILD, "corepack": d.BUILD, "nvm": d.BUILD, "pyenv": d.BUILD, "rbenv": d.BUILD,
    "virtualenv": d.BUILD, "just": d.BUILD, "task": d.BUILD,
    **WRAPPERS, **PRIVILEGED, **DESTRUCTIVE, **NETWORK_OPAQUE,
}

#: Families whose versioned names (`python3.12`, `pip3.11`) mean the same program.
FAMILIES = ("python", "pip", "pypy", "node", "perl", "ruby", "php", "lua", "gcc", "clang")


def family(name: str) -> str:
    """Map versioned names (python3.11, pip3.12, node18, perl5.36) to their family."""
    for fam in FAMILIES:
        if name.startswith(fam) and name[len(fam):].replace(".", "").replace("-", "").isdigit():
            return fam
    return name


def lookup(name: str) -> Program | None:
    """The table of the program called `name`, or None when the classifier does not know it."""
    return PROGRAMS.get(name) or PROGRAMS.get(family(name))


__all__ = ["PROGRAMS", "lookup", "family", "SHELLS", "INTERPRETERS"]
