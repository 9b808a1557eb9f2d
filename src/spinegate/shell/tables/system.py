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
                  command_at=1),
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

def _D(why: str, operands: str = "data") -> Program:
    """A program whose class is already its worst: its options are not read, its operands are."""
    return prog(DANGEROUS, why, None, operands=operands)


DESTRUCTIVE: dict[str, Program] = {
    "rm": _D("deletes files", "delete"), "shred": _D("destroys files", "delete"),
    "unlink": _D("deletes a file", "delete"), "srm": _D("destroys files", "delete"),
    "truncate": prog(DANGEROUS, "truncates files", "-c|--no-create -o|--io-blocks -r|--reference= -s|--size= "
                     + _HV, operands="write"),
    "dd": prog(DANGEROUS, "copies raw blocks", None, operands="data", handler="dd"),
    "chmod": _D("changes permissions", "mode-write"), "chown": _D("changes ownership", "mode-write"),
    "chgrp": _D("changes group ownership", "mode-write"), "chattr": _D("changes file attributes", "mode-write"),
    "chflags": _D("changes file flags", "mode-write"), "setfacl": _D("changes ACLs", "mode-write"),
    "xattr": _D("changes extended attributes", "write"), "setfattr": _D("changes extended attributes", "write"),
    "mkfs": _D("formats a filesystem", "write"), "fdisk": _D("partitions disks", "write"),
    "parted": _D("partitions disks", "write"), "wipefs": _D("wipes filesystem signatures", "write"),
    "kill": _D("signals processes"), "pkill": _D("signals processes"), "killall": _D("signals processes"),
    "reboot": _D("reboots the machine"), "shutdown": _D("shuts the machine down"),
    "halt": _D("halts the machine"), "poweroff": _D("powers the machine off"),
    "systemctl": _D("controls services"), "service": _D("controls services"), "launchctl": _D("controls services"),
    "mount": _D("mounts filesystems"), "umount": _D("unmounts filesystems"),
    "iptables": _D("changes the firewall"), "nft": _D("changes the firewall"), "ufw": _D("changes the firewall"),
    "crontab": _D("schedules commands"), "at": _D("schedules commands"), "batch": _D("schedules commands"),
    "useradd": _D("changes users"), "userdel": _D("changes users"), "usermod": _D("changes users"),
    "passwd": _D("changes passwords"), "chpasswd": _D("changes passwords"), "visudo": _D("edits sudoers"),
    "insmod": _D("loads kernel modules"), "rmmod": _D("unloads kernel modules"),
    "modprobe": _D("loads kernel modules"), "sysctl": _D("changes kernel settings"),
    "chroot": _D("changes the root directory"), "nsenter": _D("enters namespaces"),
    "unshare": _D("runs a program in new namespaces"), "hostname": _D("may set the host name"),
    "apt": _D("changes system packages"), "apt-get": _D("changes system packages"),
    "yum": _D("changes system packages"), "dnf": _D("changes system packages"),
    "apk": _D("changes system packages"), "pacman": _D("changes system packages"),
    "dpkg": _D("changes system packages"), "rpm": _D("changes system packages"),
    "snap": _D("changes system packages"), "port": _D("changes system packages"),
    "docker": _D("controls containers"), "podman": _D("controls containers"), "kubectl": _D("controls a cluster"),
    "helm": _D("controls a cluster"), "terraform": _D("changes infrastructure"), "ansible": _D("runs remote tasks"),
    "npx": _D("downloads and runs packages"), "pnpx": _D("downloads and runs packages"),
    "bunx": _D("downloads and runs packages"), "uvx": _D("downloads and runs packages"),
    "pipx": _D("installs and runs packages"), "script": _D("runs a shell and records it"),
    "expect": _D("runs an expect script"), "screen": _D("runs a terminal multiplexer"),
    "tmux": _D("runs a terminal multiplexer"), "nohup.exe": _D("runs a program"),
    "vi": _D("runs an editor that can run commands"), "vim": _D("runs an editor that can run commands"),
    "nvim": _D("runs an editor that can run commands"), "emacs": _D("runs an editor that can run commands"),
    "nano": _D("runs an editor"), "ed": _D("runs an editor that can run commands"),
    "ex": _D("runs an editor that can run commands"), "open": _D("opens files with other programs"),
    "xdg-open": _D("opens files with other programs"), "osascript": _D("runs AppleScript"),
    "defaults": _D("changes macOS settings"), "security": _D("reads and changes macOS keychains"),
    "gpg": _D("uses private keys"), "ssh-keygen": _D("creates or changes keys"), "ssh-add": _D("loads keys"),
    "openssl": _D("reads and writes keys and files"),
    "ln.exe": _D("creates links"), "mknod": _D("creates device files", "write"),
    "renice": _D("changes process priorities"), "strace": _D("traces and runs programs"),
    "ltrace": _D("traces and runs programs"), "gdb": _D("debugs and runs programs"), "lldb": _D("debugs programs"),
    "valgrind": _D("runs programs"), "env.exe": _D("runs a program"), "fc-cache": _D("writes caches"),
    "ldconfig": _D("changes the loader cache"), "update-alternatives": _D("changes system programs"),
}

NETWORK_OPAQUE: dict[str, Program] = {
    name: prog(NETWORK, why, None, operands="data") for name, why in {
        "ping": "sends network packets", "ping6": "sends network packets", "traceroute": "sends network packets",
        "dig": "queries DNS", "nslookup": "queries DNS", "host": "queries DNS", "whois": "queries a remote service",
        "ftp": "transfers files", "tftp": "transfers files", "telnet": "opens network connections",
        "lynx": "browses the web", "w3m": "browses the web", "mtr": "sends network packets",
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
