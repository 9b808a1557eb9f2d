"""Tables of wrappers (programs that run another program), destructive and privileged programs,
interpreters and shells.

A wrapper's grammar stops at its first operand that is not its own (`command_at`): from there on the
words are a command, classified on its own as if it stood alone.
"""

from __future__ import annotations

from ..model import DANGEROUS, MUTATING, NETWORK, SAFE, Program, prog

_HV = "--help --version"

# -- wrappers -------------------------------------------------------------------------------

WRAPPERS: dict[str, Program] = {
    "nohup": prog(SAFE, "runs the program that follows", _HV, operands="command", permute=False, command_at=0),
    "nice": prog(SAFE, "runs the program that follows", "-n|--adjustment= " + _HV, operands="command",
                 permute=False, command_at=0, numeric=""),
    "timeout": prog(SAFE, "runs the program that follows", "-f|--foreground -k|--kill-after= "
                    "-p|--preserve-status -s|--signal= -v|--verbose " + _HV, operands="command", permute=False,
                    command_at=1),
    "stdbuf": prog(SAFE, "runs the program that follows", "-i|--input= -o|--output= -e|--error= " + _HV,
                   operands="command", permute=False, command_at=0),
    "ionice": prog(SAFE, "runs the program that follows", "-c|--class= -n|--classdata= -p|--pid= "
                   "-P|--pgid= -t|--ignore -u|--uid= " + _HV, operands="command", permute=False, command_at=0),
    "setsid": prog(SAFE, "runs the program that follows", "-c|--ctty -f|--fork -w|--wait " + _HV,
                   operands="command", permute=False, command_at=0),
    "chrt": prog(SAFE, "runs the program that follows", "-a|--all-tasks -b|--batch -d|--deadline -f|--fifo "
                 "-i|--idle -o|--other -r|--rr -R|--reset-on-fork -T|--sched-runtime= -P|--sched-period= "
                 "-D|--sched-deadline= -m|--max -v|--verbose " + _HV, operands="command", permute=False,
                 command_at=1),
    "taskset": prog(SAFE, "runs the program that follows", "-a|--all-tasks -c|--cpu-list -p|--pid " + _HV,
                    operands="command", permute=False, command_at=1),
    "unbuffer": prog(SAFE, "runs the program that follows", "-p", operands="command", permute=False,
                     command_at=0),
    "caffeinate": prog(SAFE, "runs the program that follows", "-d -i -m -s -u -t= -w=", operands="command",
                       permute=False, command_at=0),
    "time": prog(SAFE, "times the program that follows", "-a|--append -f|--format= -o|--output=:write -p|--portability "
                 "-q|--quiet -v|--verbose -l " + _HV, operands="command", permute=False, command_at=0),
    "xargs": prog(SAFE, "runs the program that follows with arguments from its input",
                  "-0|--null -a|--arg-file=:read -d|--delimiter= -E= -e|--eof? -I= -i|--replace? -L= -l|--max-lines? "
                  "-n|--max-args= -P|--max-procs= -o|--open-tty -p|--interactive --process-slot-var=:assign "
                  "-r|--no-run-if-empty -s|--max-chars= -t|--verbose -x|--exit -J= -R= -S= " + _HV,
                  operands="command", permute=False, command_at=0, handler="xargs"),
    "watch": prog(SAFE, "repeats the command that follows", "-b|--beep -c|--color -C|--no-color "
                  "-d|--differences? -e|--errexit -g|--chgexit -n|--interval= -p|--precise -q|--equexit= "
                  "-r|--no-rerun -t|--no-title -w|--no-wrap -x|--exec " + _HV, operands="command",
                  permute=False, command_at=0, handler="watch"),
    "flock": prog(MUTATING, "takes a lock and runs the program that follows",
                  "-s|--shared -x|-e|--exclusive -u|--unlock -n|--nb|--nonblock -w|--timeout= -E|--conflict-exit-code= "
                  "-o|--close -F|--no-fork --verbose -c|--command=:sh " + _HV, operands="command", permute=False,
                  command_at=1, handler="flock"),
}

PRIVILEGED: dict[str, Program] = {
    name: prog(DANGEROUS, "runs a program with other privileges",
               "-A|--askpass -b|--background -B|--bell -C|--close-from= -D|--chdir=:chdir -E|--preserve-env? "
               "-e|--edit -g|--group= -H|--set-home -h|--host= -i|--login -K|--remove-timestamp "
               "-k|--reset-timestamp -l|--list -n|--non-interactive -P|--preserve-groups -p|--prompt= "
               "-R|--chroot= -r|--role= -S|--stdin -s|--shell -t|--type= -T|--command-timeout= "
               "-U|--other-user= -u|--user= -v|--validate -V|--version -h|--help -c|--command=:sh -L -a= -m "
               "-f -w= -W=",
               operands="command", permute=False, command_at=0)
    for name in ("sudo", "doas", "su", "pkexec", "runuser", "run0", "sudoedit")
}

# -- programs whose options do not matter: the class is already their worst ------------------

def _opaque_dangerous(why: str, operands: str = "data") -> Program:
    """A program whose class is already its worst: its options are not read, its operands are."""
    return prog(DANGEROUS, why, None, operands=operands)


# name: (what it does, the role of its operands); options are not read (the class is already its worst).
_DESTRUCTIVE_PROGRAMS: dict[str, tuple[str, str]] = {
    "rm": ("deletes files", "delete"),
    "shred": ("destroys files", "delete"),
    "unlink": ("deletes a file", "delete"),
    "srm": ("destroys files", "delete"),
    "chmod": ("changes permissions", "mode-write"),
    "chown": ("changes ownership", "mode-write"),
    "chgrp": ("changes group ownership", "mode-write"),
    "chattr": ("changes file attributes", "mode-write"),
    "chflags": ("changes file flags", "mode-write"),
    "setfacl": ("changes ACLs", "mode-write"),
    "xattr": ("changes extended attributes", "write"),
    "setfattr": ("changes extended attributes", "write"),
    "mkfs": ("formats a filesystem", "write"),
    "fdisk": ("partitions disks", "write"),
    "parted": ("partitions disks", "write"),
    "wipefs": ("wipes filesystem signatures", "write"),
    "kill": ("signals processes", "data"),
    "pkill": ("signals processes", "data"),
    "killall": ("signals processes", "data"),
    "reboot": ("reboots the machine", "data"),
    "shutdown": ("shuts the machine down", "data"),
    "halt": ("halts the machine", "data"),
    "poweroff": ("powers the machine off", "data"),
    "systemctl": ("controls services", "data"),
    "service": ("controls services", "data"),
    "launchctl": ("controls services", "data"),
    "mount": ("mounts filesystems", "data"),
    "umount": ("unmounts filesystems", "data"),
    "iptables": ("changes the firewall", "data"),
    "nft": ("changes the firewall", "data"),
    "ufw": ("changes the firewall", "data"),
    "crontab": ("schedules commands", "data"),
    "at": ("schedules commands", "data"),
    "batch": ("schedules commands", "data"),
    "useradd": ("changes users", "data"),
    "userdel": ("changes users", "data"),
    "usermod": ("changes users", "data"),
    "passwd": ("changes passwords", "data"),
    "chpasswd": ("changes passwords", "data"),
    "visudo": ("edits sudoers", "data"),
    "insmod": ("loads kernel modules", "data"),
    "rmmod": ("unloads kernel modules", "data"),
    "modprobe": ("loads kernel modules", "data"),
    "sysctl": ("changes kernel settings", "data"),
    "chroot": ("changes the root directory", "data"),
    "nsenter": ("enters namespaces", "data"),
    "unshare": ("runs a program in new namespaces", "data"),
    "apt": ("changes system packages", "data"),
    "apt-get": ("changes system packages", "data"),
    "yum": ("changes system packages", "data"),
    "dnf": ("changes system packages", "data"),
    "apk": ("changes system packages", "data"),
    "pacman": ("changes system packages", "data"),
    "dpkg": ("changes system packages", "data"),
    "rpm": ("changes system packages", "data"),
    "snap": ("changes system packages", "data"),
    "port": ("changes system packages", "data"),
    "docker": ("controls containers", "data"),
    "podman": ("controls containers", "data"),
    "kubectl": ("controls a cluster", "data"),
    "helm": ("controls a cluster", "data"),
    "terraform": ("changes infrastructure", "data"),
    "ansible": ("runs remote tasks", "data"),
    "npx": ("downloads and runs packages", "data"),
    "pnpx": ("downloads and runs packages", "data"),
    "bunx": ("downloads and runs packages", "data"),
    "uvx": ("downloads and runs packages", "data"),
    "pipx": ("installs and runs packages", "data"),
    "script": ("runs a shell and records it", "data"),
    "expect": ("runs an expect script", "data"),
    "screen": ("runs a terminal multiplexer", "data"),
    "tmux": ("runs a terminal multiplexer", "data"),
    "nohup.exe": ("runs a program", "data"),
    "vi": ("runs an editor that can run commands", "data"),
    "vim": ("runs an editor that can run commands", "data"),
    "nvim": ("runs an editor that can run commands", "data"),
    "emacs": ("runs an editor that can run commands", "data"),
    "nano": ("runs an editor", "data"),
    "ed": ("runs an editor that can run commands", "data"),
    "ex": ("runs an editor that can run commands", "data"),
    "open": ("opens files with other programs", "data"),
    "xdg-open": ("opens files with other programs", "data"),
    "osascript": ("runs AppleScript", "data"),
    "defaults": ("changes macOS settings", "data"),
    "security": ("reads and changes macOS keychains", "data"),
    "gpg": ("uses private keys", "data"),
    "ssh-keygen": ("creates or changes keys", "data"),
    "ssh-add": ("loads keys", "data"),
    "openssl": ("reads and writes keys and files", "data"),
    "ln.exe": ("creates links", "data"),
    "mknod": ("creates device files", "write"),
    "renice": ("changes process priorities", "data"),
    "strace": ("traces and runs programs", "data"),
    "ltrace": ("traces and runs programs", "data"),
    "gdb": ("debugs and runs programs", "data"),
    "lldb": ("debugs programs", "data"),
    "valgrind": ("runs programs", "data"),
    "env.exe": ("runs a program", "data"),
    "fc-cache": ("writes caches", "data"),
    "ldconfig": ("changes the loader cache", "data"),
    "update-alternatives": ("changes system programs", "data"),
    # network clients that read commands, and run local shell commands with `!` (or a configured program)
    "ftp": ("reads commands, and runs local shell commands with !", "data"),
    "telnet": ("reads commands, and runs local shell commands with !", "data"),
    "lynx": ("browses the web and runs programs it is configured or scripted to", "data"),
    "w3m": ("browses the web and runs programs and local CGI scripts", "data"),
    "links": ("browses the web and runs programs it is configured to", "data"),
    "tftp": ("reads commands, and writes local files they name", "data"),
    "elinks": ("browses the web and runs programs it is configured to", "data"),
}
DESTRUCTIVE: dict[str, Program] = {name: _opaque_dangerous(why, operands)
                                   for name, (why, operands) in _DESTRUCTIVE_PROGRAMS.items()}
DESTRUCTIVE["truncate"] = prog(DANGEROUS, "truncates files", "-c|--no-create -o|--io-blocks -r|--reference= "
                               "-s|--size= " + _HV, operands="write")
DESTRUCTIVE["dd"] = prog(DANGEROUS, "copies raw blocks", None, operands="data", handler="dd")

NETWORK_OPAQUE: dict[str, Program] = {
    name: prog(NETWORK, why, None, operands="data") for name, why in {
        "ping": "sends network packets", "ping6": "sends network packets", "traceroute": "sends network packets",
        "nslookup": "queries DNS", "host": "queries DNS", "whois": "queries a remote service",
        "mtr": "sends network packets",
    }.items()
}

# -- interpreters and shells: handled by the classifier (inline code is never seen into) -------------

SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "csh", "tcsh", "yash", "posh",
                    "rbash", "busybox-sh", "oksh", "loksh", "elvish", "nu", "xonsh", "pwsh", "powershell"})
INTERPRETERS = frozenset({
    "python", "python2", "python3", "pypy", "pypy3", "node", "nodejs", "deno", "bun", "perl", "ruby", "php",
    "lua", "luajit", "rscript", "r", "julia", "tclsh", "wish", "groovy", "java", "jshell", "scala", "kotlin",
    "swift", "ghci", "runghc", "erl", "elixir", "iex", "irb", "jruby", "racket", "guile", "sbcl", "clisp",
    "ocaml", "dotnet", "mono", "awk.exe", "sqlite3", "psql", "mysql", "redis-cli", "mongo", "mongosh", "bc",
    "dc", "m4", "jjs", "rhino", "qjs", "tsx", "ts-node", "pip-run", "ipython", "jupyter",
})

__all__ = ["WRAPPERS", "PRIVILEGED", "DESTRUCTIVE", "NETWORK_OPAQUE", "SHELLS", "INTERPRETERS"]
