"""Shell variables whose value changes what later programs run, load or read.

An assignment to one of these, by any route (`VAR=`, `export`, `declare`,
`for VAR in`, `read VAR`, `printf -v VAR`, `${VAR:=...}`, `mapfile VAR`,
`getopts`), is SHELL_DANGEROUS: after it, even `ls` may run something else.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

SENSITIVE_NAMES = frozenset({
    # what runs and how the shell reads
    "PATH", "IFS", "BASH_ENV", "ENV", "CDPATH", "PROMPT_COMMAND", "PS0", "PS1", "PS2", "PS3", "PS4",
    "SHELLOPTS", "BASHOPTS", "BASH_XTRACEFD", "HOME", "SHELL", "GLOBIGNORE", "FIGNORE", "HISTFILE",
    "BASH_LOADABLES_PATH", "BASH_COMPAT", "EXECIGNORE", "TMOUT", "POSIXLY_CORRECT", "OLDPWD", "PWD",
    "ZDOTDIR", "FPATH", "TEXTDOMAIN", "TEXTDOMAINDIR", "LANG", "LANGUAGE", "NLSPATH", "MAIL", "MAILPATH",
    "COMP_WORDBREAKS", "HOSTFILE", "INPUTRC", "TERMINFO", "TERMINFO_DIRS", "TMPDIR",
    # pagers, editors and helpers other programs start
    "PAGER", "MANPAGER", "MANOPT", "MANPATH", "GROFF_COMMAND", "EDITOR", "VISUAL", "BROWSER", "LESSOPEN",
    "LESSCLOSE", "LESSKEY", "LESSKEYIN", "LESSKEY_SYSTEM", "LESS", "LESSSECURE", "SUDO_ASKPASS",
    "SSH_ASKPASS", "SSH_ASKPASS_REQUIRE", "DISPLAY", "SYSTEMD_PAGER", "SYSTEMD_EDITOR", "GPG_TTY",
    "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CONFIG_DIRS", "XDG_DATA_DIRS", "XDG_RUNTIME_DIR",
    "CURL_HOME", "CURL_CA_BUNDLE", "WGETRC", "SYSTEM_WGETRC", "SSH_AUTH_SOCK", "SSH_CONFIG", "RSYNC_RSH",
    "RSYNC_CONNECT_PROG", "TAR_OPTIONS", "GZIP", "BZIP", "BZIP2", "XZ_OPT", "XZ_DEFAULTS", "ZSTD_CLEVEL",
    "GREP_OPTIONS", "GREP_COLOR", "RIPGREP_CONFIG_PATH", "FZF_DEFAULT_COMMAND", "AWKPATH", "AWKLIBPATH",
    "JQ_LIBRARY_PATH", "PERLDB_OPTS", "PERL5DB", "TZDIR", "LOCPATH", "GCONV_PATH", "HOSTALIASES",
    "RES_OPTIONS", "LOCALDOMAIN", "TERM", "COLUMNS",
    # loaders and runtimes
    "NODE_OPTIONS", "NODE_PATH", "NODE_EXTRA_CA_CERTS", "RUBYOPT", "RUBYLIB", "GEM_HOME", "GEM_PATH",
    "BUNDLE_GEMFILE", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "CLASSPATH", "JAVA_HOME",
    "GOFLAGS", "GOPATH", "GOROOT", "GOTOOLCHAIN", "GOPROXY", "GONOSUMDB", "GOPRIVATE", "GOENV",
    "CARGO_HOME", "RUSTC", "RUSTC_WRAPPER", "RUSTFLAGS", "RUSTDOCFLAGS", "CARGO_BUILD_RUSTC_WRAPPER",
    "CC", "CXX", "CPP", "LD", "AR", "AS", "CFLAGS", "CXXFLAGS", "LDFLAGS", "CPPFLAGS", "MAKEFLAGS", "MAKE",
    "MFLAGS", "GNUMAKEFLAGS", "MAKEFILES", "CMAKE_ARGS", "PKG_CONFIG_PATH", "LUA_PATH", "LUA_CPATH",
    "LUA_INIT", "TCLLIBPATH", "R_PROFILE", "R_PROFILE_USER", "R_ENVIRON", "R_ENVIRON_USER", "OPENSSL_CONF",
    "OPENSSL_ENGINES", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "MALLOC_CONF",
    "UV_PYTHON", "UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_CONFIG_FILE", "VIRTUAL_ENV", "CONDA_PREFIX",
    "NPM_CONFIG_USERCONFIG", "NPM_CONFIG_GLOBALCONFIG", "NPM_CONFIG_PREFIX", "NPM_CONFIG_SCRIPT_SHELL",
    "YARN_RC_FILENAME", "COREPACK_HOME", "DOCKER_HOST", "DOCKER_CONFIG", "KUBECONFIG", "PROXY_COMMAND",
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
    "no_proxy", "ftp_proxy", "FTP_PROXY", "BASH_FUNC",
    # programs that read their options (or their archive) from the environment
    "ZIP", "ZIPOPT", "UNZIP", "UNZIPOPT", "ZIPINFO", "ZIPINFOOPT", "TAPE", "MORE", "SIMPLE_BACKUP_SUFFIX",
    "VERSION_CONTROL", "GLIBC_TUNABLES", "EXINIT", "VIMINIT", "MYVIMRC", "GVIMINIT", "LESSEDIT", "LESSHISTFILE",
    # zsh: commands run for a bare redirection or before each command, prompts, and arrays tied to PATH & co.
    "NULLCMD", "READNULLCMD", "STTY", "PROMPT", "PROMPT2", "PROMPT3", "PROMPT4", "RPROMPT", "RPROMPT2", "RPS1",
    "RPS2", "path", "fpath", "cdpath", "manpath", "mailpath", "module_path", "psvar", "TMPPREFIX", "PERIOD",
})

#: Name patterns (fnmatch, case-sensitive) that are sensitive too.
SENSITIVE_PATTERNS: tuple[str, ...] = (
    "LD_*", "DYLD_*", "PYTHON*", "PIP_*", "GIT_*", "PERL*", "NPM_CONFIG_*", "npm_config_*", "YARN_*",
    "PNPM_*", "BUNDLE_*", "*_OPTIONS", "*_OPTS", "*_FLAGS", "*_COMMAND", "*_PAGER", "*_EDITOR", "*_ASKPASS",
    "*_CONFIG", "*_CONFIG_*", "*_HOME", "*_PATH", "*_PROXY", "*_proxy", "*_PRELOAD", "*_LIBRARY_PATH",
    "BASH_FUNC_*", "BASH_*", "SUDO_*", "SSH_*", "GNUPG*", "GPG_*", "LC_*", "CARGO_*", "RUST*", "GO*",
    "CONDA_*", "UV_*", "POETRY_*", "HATCH_*", "TOX_*", "PYTEST_*", "NODE_*", "DENO_*", "BUN_*", "JAVA_*",
    "MAVEN_*", "GRADLE_*", "ANSIBLE_*", "TF_*", "DOCKER_*", "KUBE*", "AWS_*", "GOOGLE_*", "AZURE_*",
    "*RC", "*rc", "*_DIR", "*_DIRS", "*_FILE", "*_CMD", "*_SHELL", "*_BIN", "*_EXEC*", "*_PROG*",
    "*_TOOL*", "*_HOOK*", "*_PLUGIN*", "*_MODULE*", "*_INIT*", "*_STARTUP*", "*_LOADER*", "*_WRAPPER*",
    "*_BROWSER", "*_OPT", "*_ARGS", "MAN*", "GROFF_*", "RUBY*", "LUA_*", "TCL*", "PHP*", "R_*", "JULIA_*",
    "*_functions", "TRAP*",
)


def is_sensitive(name: str) -> bool:
    """Whether assigning `name` can change what later commands run, load or read."""
    base = name.split("[", 1)[0]
    return base in SENSITIVE_NAMES or any(fnmatchcase(base, p) for p in SENSITIVE_PATTERNS)


__all__ = ["is_sensitive", "SENSITIVE_NAMES", "SENSITIVE_PATTERNS"]
