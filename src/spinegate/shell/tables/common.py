"""Tables of the everyday programs: files, text, system information, archives, network clients.

Option grammars are the union of GNU coreutils/findutils/grep/sed and the
BSD/macOS spellings; where they disagree on whether an option takes a value,
the entry follows the reading that swallows fewer operands unchecked or, for
write-related options, the one that checks more. Roles: "" harmless; `read`
value is a file read; `write`/`writedir` value is written; `exec`/`sh`/
`config`/`danger` make the part SHELL_DANGEROUS; `net` NETWORK_ATTEMPT;
`mut` SHELL_MUTATING; `data` harmless even when computed at run time.
"""

from __future__ import annotations

from ..model import DANGEROUS, MUTATING, NETWORK, SAFE, prog

_HV = "--help --version"

LS = prog(SAFE, "lists files",
          "-a|--all -A|--almost-all --author -b|--escape --block-size= -B|--ignore-backups -c -C --color? "
          "-d|--directory -D|--dired -f -F|--classify? --file-type --format= --full-time -g "
          "--group-directories-first -G|--no-group -h|--human-readable --si -H|--dereference-command-line "
          "--dereference-command-line-symlink-to-dir --hide= --hyperlink? --indicator-style= -i|--inode "
          "-I|--ignore= -k|--kibibytes -l -L|--dereference -m -n|--numeric-uid-gid -N|--literal -o "
          "-p -q|--hide-control-chars --show-control-chars -Q|--quote-name --quoting-style= -r|--reverse "
          "-R|--recursive -s|--size -S --sort= --time= --time-style= -t -T|--tabsize= -u -U -v "
          "-w|--width= -x -X -Z|--context --zero -1 -% -, -@ -e -O -P -W -y " + _HV, operands="data")
CAT = prog(SAFE, "prints files", "-A|--show-all -b|--number-nonblank -e -E|--show-ends -n|--number "
           "-s|--squeeze-blank -t -T|--show-tabs -u -v|--show-nonprinting -l " + _HV)
TAC = prog(SAFE, "prints files in reverse", "-b|--before -r|--regex -s|--separator= " + _HV)
NL = prog(SAFE, "numbers lines", "-b|--body-numbering= -d|--section-delimiter= -f|--footer-numbering= "
          "-h|--header-numbering= -i|--line-increment= -l|--join-blank-lines= -n|--number-format= "
          "-p|--no-renumber -s|--number-separator= -v|--starting-line-number= -w|--number-width= " + _HV)
HEAD = prog(SAFE, "prints the start of files", "-c|--bytes= -n|--lines= -q|--quiet|--silent -v|--verbose "
            "-z|--zero-terminated " + _HV, numeric="")
TAIL = prog(SAFE, "prints the end of files", "-c|--bytes= -f|--follow? -F -n|--lines= --max-unchanged-stats= "
            "--pid= -q|--quiet|--silent --retry -s|--sleep-interval= -v|--verbose -z|--zero-terminated -r -b= "
            + _HV, numeric="", plus="")
WC = prog(SAFE, "counts lines, words and bytes", "-c|--bytes -m|--chars -l|--lines --files0-from=:read "
          "-L|--max-line-length -w|--words --total= " + _HV)
SORT = prog(SAFE, "sorts lines", "-b|--ignore-leading-blanks -d|--dictionary-order -f|--ignore-case "
            "-g|--general-numeric-sort -i|--ignore-nonprinting -M|--month-sort -h|--human-numeric-sort "
            "-n|--numeric-sort -R|--random-sort --random-source=:read -r|--reverse --sort= -V|--version-sort "
            "--batch-size= -c|--check? -C --compress-program=:exec --debug --files0-from=:names-read -k|--key= "
            "-m|--merge -o|--output=:write -s|--stable -S|--buffer-size= -t|--field-separator= "
            "-T|--temporary-directory=:writedir --parallel= -u|--unique -z|--zero-terminated " + _HV, plus="")
UNIQ = prog(SAFE, "filters repeated lines", "-c|--count -d|--repeated -D --all-repeated? -f|--skip-fields= "
            "--group? -i|--ignore-case -s|--skip-chars= -u|--unique -z|--zero-terminated -w|--check-chars= "
            + _HV, numeric="", plus="", handler="uniq")
CUT = prog(SAFE, "cuts fields", "-b|--bytes= -c|--characters= -d|--delimiter= -f|--fields= -n --complement "
           "-s|--only-delimited --output-delimiter= -z|--zero-terminated -w " + _HV)
TR = prog(SAFE, "translates characters", "-c|-C|--complement -d|--delete -s|--squeeze-repeats "
          "-t|--truncate-set1 -u " + _HV, operands="data")
DIFF = prog(SAFE, "compares files",
            "--normal -q|--brief --report-identical-files -s -c -C|--context? -u -U|--unified? -e|--ed -n|--rcs "
            "-y|--side-by-side -W|--width= --left-column --suppress-common-lines -p|--show-c-function "
            "-F|--show-function-line= --label= --expand-tabs -t -T|--initial-tab --tabsize= --suppress-blank-empty "
            "-l|--paginate -r|--recursive:recursive --no-dereference -N|--new-file --unidirectional-new-file "
            "--ignore-file-name-case --no-ignore-file-name-case -x|--exclude= -X|--exclude-from=:read "
            "-S|--starting-file= --from-file=:read --to-file=:read -i|--ignore-case -E|--ignore-tab-expansion "
            "-Z|--ignore-trailing-space -b|--ignore-space-change -w|--ignore-all-space -B|--ignore-blank-lines "
            "-I|--ignore-matching-lines= -a|--text --strip-trailing-cr -D|--ifdef= --GTYPE-group-format= "
            "--line-format= --LTYPE-line-format= --old-group-format= --new-group-format= "
            "--unchanged-group-format= --changed-group-format= --old-line-format= --new-line-format= "
            "--unchanged-line-format= -d|--minimal --horizon-lines= --speed-large-files --color? "
            "--palette= " + _HV, numeric="")
CMP = prog(SAFE, "compares files byte by byte", "-b|--print-bytes -i|--ignore-initial= -l|--verbose "
           "-n|--bytes= -s|--quiet|--silent " + _HV)
COMM = prog(SAFE, "compares sorted files", "-1 -2 -3 --check-order --nocheck-order --output-delimiter= "
            "--total -z|--zero-terminated -i " + _HV)
STAT = prog(SAFE, "shows file status", "-L|--dereference -f|--file-system -c|--format= --printf= -t|--terse "
            "--cached= -F -l -n -q -r -s -x -H -e -o= " + _HV, operands="data")
DU = prog(SAFE, "shows disk usage", "-0|--null -a|--all --apparent-size -B|--block-size= -b|--bytes "
          "-c|--total -D|--dereference-args -d|--max-depth= --files0-from=:read -H --inodes -h|--human-readable "
          "-k -L|--dereference -l|--count-links -m -P|--no-dereference -S|--separate-dirs --si "
          "-s|--summarize -t|--threshold= --time? --time-style= -X|--exclude-from=:read --exclude= "
          "-x|--one-file-system -A -g -I= -n -r " + _HV, operands="data")
DF = prog(SAFE, "shows free disk space", "-a|--all -B|--block-size= -h|--human-readable -H|--si -i|--inodes "
          "-k -l|--local --no-sync --output? -P|--portability --sync --total -t|--type= -T|--print-type "
          "-x|--exclude-type= -g -m -n " + _HV, operands="data")
# echo has no option that does more than print: bash's echo reads `-n`, `-e`, `-E` clusters before the first other
# word and prints everything else (`echo rm -rf x` prints `rm -rf x`), so its words are not read as options.
ECHO = prog(SAFE, "prints its arguments", None, operands="data")
PRINTF = prog(SAFE, "prints formatted text", "-v=:assign", operands="data", permute=False)
BASENAME = prog(SAFE, "strips directories from a name", "-a|--multiple -s|--suffix= -z|--zero " + _HV,
                operands="data")
DIRNAME = prog(SAFE, "strips the last component of a name", "-z|--zero " + _HV, operands="data")
REALPATH = prog(SAFE, "resolves a path", "-e|--canonicalize-existing -m|--canonicalize-missing -L|--logical "
                "-P|--physical -q|--quiet --relative-to= --relative-base= -s|--strip|--no-symlinks "
                "-z|--zero " + _HV, operands="data")
READLINK = prog(SAFE, "resolves a link", "-f|--canonicalize -e|--canonicalize-existing -m|--canonicalize-missing "
                "-n|--no-newline -q|--quiet -s|--silent -v|--verbose -z|--zero " + _HV, operands="data")
PWD = prog(SAFE, "prints the working directory", "-L|--logical -P|--physical " + _HV, operands="none")
INFO_ONLY = prog(SAFE, "prints information about the system", "-a|--all " + _HV, operands="data")
WHOAMI = prog(SAFE, "prints the user name", _HV, operands="none")
ID = prog(SAFE, "prints user and group ids", "-a -Z|--context -g|--group -G|--groups -n|--name -r|--real "
          "-u|--user -z|--zero -p -P -A -F -M " + _HV, operands="data")
GROUPS = prog(SAFE, "prints group memberships", _HV, operands="data")
DATE = prog(SAFE, "prints the date", "-d|--date= --debug -f|--file=:read -I|--iso-8601? -R|--rfc-email "
            "--rfc-3339= -r|--reference= -u|--utc|--universal -j -n -v= -z= " + _HV, operands="data",
            handler="date")
UNAME = prog(SAFE, "prints system information", "-a|--all -s|--kernel-name -n|--nodename -r|--kernel-release "
             "-v|--kernel-version -m|--machine -p|--processor -i|--hardware-platform -o|--operating-system "
             + _HV, operands="none")
WHICH = prog(SAFE, "finds a program on PATH", "-a -s --skip-alias --skip-functions --all " + _HV, operands="data")
FILE = prog(SAFE, "guesses file types", "-b|--brief -c|--checking-printout -E -e|--exclude= --exclude-quiet= "
            "-F|--separator= -f|--files-from=:read -h|--no-dereference -i|--mime --mime-type --mime-encoding "
            "-k|--keep-going -l|--list -L|--dereference -m|--magic-file=:read -N|--no-pad -n|--no-buffer "
            "-p|--preserve-date -P|--parameter= -r|--raw -s|--special-files -S|--no-sandbox -v -z|--uncompress "
            "-Z|--uncompress-noreport -0|--print0 --apple --extension -I -D -C|--compile:danger " + _HV)
TRUE = prog(SAFE, "does nothing", None, operands="none")
TEST = prog(SAFE, "evaluates a condition", None, operands="data")
PRINTENV = prog(SAFE, "prints environment variables", "-0|--null " + _HV, operands="data")
YES = prog(SAFE, "repeats a line", _HV, operands="data")
SLEEP = prog(SAFE, "waits", _HV, operands="data")
SEQ = prog(SAFE, "prints numbers", "-f|--format= -s|--separator= -w|--equal-width -t= " + _HV, operands="data",
           permute=False)
EXPR = prog(SAFE, "evaluates an expression", None, operands="data")
CHECKSUM = prog(SAFE, "computes checksums", "-b|--binary -c|--check -l|--length= --tag -t|--text -z|--zero "
                "--ignore-missing --quiet --status --strict -w|--warn -a|--algorithm= --untagged --base64 --raw "
                "-r -q -s= -p " + _HV)
CKSUM = prog(SAFE, "computes checksums", "-a|--algorithm= -c|--check -l|--length= --tag --untagged --base64 "
             "--raw -z|--zero --debug -o= --ignore-missing --quiet --status --strict -w|--warn -r -s|--sysv " + _HV)
BASE64 = prog(SAFE, "encodes or decodes base64", "-d|-D|--decode -i|--ignore-garbage -w|--wrap= -b|--break= "
              "--base16 --base2lsbf --base2msbf --base32 --base32hex --base64 --base64url --z85 "
              "-o|--output=:write --input=:read " + _HV)
OD = prog(SAFE, "dumps bytes", "-A|--address-radix= --endian= -j|--skip-bytes= -N|--read-bytes= -S|--strings? "
          "-t|--format= -v|--output-duplicates -w|--width? --traditional -a -b -c -d -f -i -l -o -s -x -B -D -e "
          "-F -H -I -L -O -X " + _HV)
HEXDUMP = prog(SAFE, "dumps bytes", "-b|--one-byte-octal -c|--one-byte-char -C|--canonical -d|--two-bytes-decimal "
               "-o|--two-bytes-octal -x|--two-bytes-hex -e|--format= -f|--format-file=:read -n|--length= "
               "-s|--skip= -v|--no-squeezing -L|--color? -V -h " + _HV)
XXD = prog(SAFE, "dumps bytes", "-a -autoskip -b -bits -c= -cols= -C -capitalize -E -EBCDIC -e -g= -groupsize= "
           "-h -help -i -include -l= -len= -n= -name= -o= -offset= -p -ps -postscript -plain -r -revert -R= "
           "-d -s= -seek= -u -v -version", single_dash_long=True, handler="xxd", permute=False)
STRINGS = prog(SAFE, "prints text in binary files", handler="response-files",
               spec="-a|--all -d|--data -f|--print-file-name -n|--bytes= "
               "-t|--radix= -o -e|--encoding= -T|--target= -w|--include-all-whitespace -s|--output-separator= "
               "--unicode= -U= -v|-V " + _HV, numeric="")
COLUMN = prog(SAFE, "formats columns", "-c|--output-width= -C|--table-column= -d|--table-noheadings "
              "-e -E|--table-noextreme= -H|--table-hide= -i|--tree-id= -J|--json -l|--table-columns-limit= "
              "-L|--keep-empty-lines -n|--table-name= -N|--table-columns= -o|--output-separator= "
              "-O|--table-order= -p|--tree-parent= -r|--tree= -R|--table-right= -s|--separator= -t|--table "
              "-T|--table-truncate= -W|--table-wrap= -x|--fillrows " + _HV)
FOLD = prog(SAFE, "wraps lines", "-b|--bytes -c|--characters -s|--spaces -w|--width= " + _HV, numeric="")
FMT = prog(SAFE, "formats paragraphs", "-c|--crown-margin -p|--prefix= -s|--split-only -t|--tagged-paragraph "
           "-u|--uniform-spacing -w|--width= -g|--goal= -m -n -d= -l= " + _HV, numeric="")
PASTE = prog(SAFE, "merges lines", "-d|--delimiters= -s|--serial -z|--zero-terminated " + _HV)
JOIN = prog(SAFE, "joins lines on a field", "-a= -e= -i|--ignore-case -j= -o= -t= -v= -1= -2= --check-order "
            "--nocheck-order --header -z|--zero-terminated " + _HV)
REV = prog(SAFE, "reverses lines", "-0|--zero " + _HV)
SHUF = prog(SAFE, "shuffles lines", "-e|--echo -i|--input-range= -n|--head-count= -o|--output=:write "
            "--random-source=:read -r|--repeat -z|--zero-terminated " + _HV)
TREE = prog(SAFE, "lists a directory tree", "-a -d -l -f -x -L= -R -P= -I= --gitignore --gitfile=:read "
            "--ignore-case --matchdirs --metafirst --prune --info --infofile=:read --noreport --charset= "
            "--filelimit= -o=:write -q -N -Q -p -u -g -s -h --si --du -D --timefmt= -F --inodes --device -v -t "
            "-c -U -r --dirsfirst --filesfirst --sort= -i -A -S -n -C -X -J -H= -T= --nolinks --hintro=:read "
            "--houtro=:read --fromfile:readops --fflinks --opt-toggle --hyperlink " + _HV, operands="data")
LESS = prog(SAFE, "pages through files", "-? --help -a --search-skip-screen -A --SEARCH-SKIP-SCREEN "
            "-b|--buffers= -B|--auto-buffers -c|--clear-screen -C --CLEAR-SCREEN -d|--dumb -e|--quit-at-eof "
            "-E|--QUIT-AT-EOF -f|--force -F|--quit-if-one-screen -g|--hilite-search -G|--HILITE-SEARCH "
            "-h|--max-back-scroll= -i|--ignore-case -I|--IGNORE-CASE -j|--jump-target= -J|--status-column "
            "-K|--quit-on-intr -L|--no-lessopen -m|--long-prompt -M|--LONG-PROMPT -n|--line-numbers "
            "-N|--LINE-NUMBERS -q|--quiet|--silent -Q|--QUIET|--SILENT -r|--raw-control-chars "
            "-R|--RAW-CONTROL-CHARS -s|--squeeze-blank-lines -S|--chop-long-lines -t|--tag=:reads-elsewhere "
            "-T|--tag-file=:read "
            "-u|--underline-special -U|--UNDERLINE-SPECIAL -V|--version -w|--hilite-unread "
            "-W|--HILITE-UNREAD -x|--tabs= -X|--no-init -y|--max-forw-scroll= -z|--window= --mouse "
            "--no-keypad --follow-name --use-color --incsearch --header= -k|--lesskey-file=:config "
            "-#|--shift= --use-backslash --exit-follow-on-close --no-vbell --redraw-on-quit -~|--tilde "
            "--status-line --file-size --line-num-width= --no-number-headers --no-search-headers --no-histdups "
            "--proc-backspace --proc-tab --proc-return --wheel-lines= --search-options= --intr= --match-shift= "
            "--rscroll= --save-marks --status-col-width= --form-feed --show-preproc-errors --no-edit-warn "
            "--lesskey-src=:config -o|--log-file=:write -O|--LOG-FILE=:write -p|--pattern= -P|--prompt= "
            "-D= --wordwrap", plus="exec", handler="pager")
MORE = prog(SAFE, "pages through files", "-d|--silent -f|--logical -l|--no-pause -c|--print-over "
            "-p|--clean-print -s|--squeeze -u|--plain -n|--lines= -e|--exit-on-eof " + _HV, numeric="",
            plus="exec", handler="pager")
PS = prog(SAFE, "lists processes", None, operands="data", handler="ps")
MAN = prog(SAFE, "shows manual pages", "-a|--all -f|--whatis -k|--apropos -K|--global-apropos:mut "
           "-l|--local-file:readops "
           "-w|--where|--path|--location -W|--where-cat|--location-cat -C|--config-file=:config -d|--debug "
           "-D|--default -L|--locale= -m|--systems= -M|--manpath=:reads-elsewhere -S|-s|--sections= -e|--extension= "
           "-i|--ignore-case -I|--match-case --regex:mut --wildcard:mut --names-only -u|--update:mut --no-subpages "
           "-R|--recode= "
           "-P|--pager=:exec -r|--prompt= -7|--ascii -E|--encoding= --no-hyphenation --no-justification "
           "-p|--preprocessor= -t|--troff -T|--troff-device? -H|--html?:exec -X|--gxditview? -Z|--ditroff "
           "-c|--catman:mut -h|--help -V|--version", operands="data", handler="man")
INFO = prog(SAFE, "shows info documents", "-a|--all -k|--apropos= -d|--directory= --dribble=:write "
            "-f|--file=:read -h|--help --index-search= --init-file=:config -n|--node= -o|--output=:write "
            "-O|--show-options|--usage -R|--raw-escapes --restore=:read --strict-node-location "
            "--subnodes -v|--variable= --version -w|--where --vi-keys -x|--debug=", operands="data")
CD = prog(SAFE, "changes the working directory", "-L -P -e -@", operands="data")
# -- system information: procps (Linux) and BSD/macOS spellings; options that read a file are `read` --
UPTIME = prog(SAFE, "prints how long the system has run", "-p|--pretty -s|--since -h|--help -V|--version",
              operands="none")
FREE = prog(SAFE, "prints memory usage", "-b|--bytes -k|--kibi -m|--mebi -g|--gibi --tebi --pebi --kilo --mega "
            "--giga --tera --peta -h|--human --si -l|--lohi -L|--line -t|--total -v|--committed -c|--count= "
            "-s|--seconds= -w|--wide --help -V|--version", operands="none")
TTY = prog(SAFE, "prints the terminal's name", "-s|--silent|--quiet " + _HV, operands="none")
LOCALE = prog(SAFE, "prints locale settings", "-a|--all-locales -m|--charmaps -c|--category-name "
              "-k|--keyword-name -v|--verbose -?|--help --usage -V|--version", operands="data")
LSB_RELEASE = prog(SAFE, "prints the distribution's release", "-v|--version -i|--id -d|--description "
                   "-r|--release -c|--codename -a|--all -s|--short -h|--help", operands="none")
GETCONF = prog(SAFE, "prints configuration values", "-a|--all -v= " + _HV, operands="data")
PSTREE = prog(SAFE, "prints the process tree", "-a|--arguments -c|--compact-not -C|--color= -g|--show-pgids "
              "-h|--highlight-all -H|--highlight-pid= -l|--long -n|--numeric-sort -N|--ns-sort= -p|--show-pids "
              "-s|--show-parents -S|--ns-changes -t|--thread-names -T|--hide-threads -u|--uid-changes "
              "-U|--unicode -A|--ascii -G|--vt100 -V|--version -w= -d= -f -m", operands="data")
PGREP = prog(SAFE, "finds processes by name", "-d|--delimiter= -l|--list-name -a|--list-full -v|--inverse "
             "-w|--lightweight -c|--count -f|--full -g|--pgroup= -G|--group= -i|--ignore-case -n|--newest "
             "-o|--oldest -O|--older= -P|--parent= -s|--session= -t|--terminal= -u|--euid= -U|--uid= -x|--exact "
             "-F|--pidfile=:read -L|--logpidfile -r|--runstates= -A|--ignore-ancestors --cgroup= --ns= --nslist= "
             "-j= -M=:read -N=:read -S -q -h|--help -V|--version", operands="data")
# lsof's own option syntax: optional values attached (`-i:8080`, `-sTCP:LISTEN`); a value given as the next
# word reads as an operand, which lsof only looks up. -k and -m name kernel files it reads; -D manages a
# device cache file it writes (where it is compiled in).
LSOF = prog(SAFE, "lists open files", "-? -h -a -A=:read -b -c= -C -d= -D?:mut -e= -E -f? -F? -g? -i? -K? "
            "-k=:read -l -L? -m=:read -M -n -N -o? -O -p= -P -Q -r? -R -s? -S? -t -T? -u= -U -v -V -w -x? "
            "-X -z? -Z?", operands="data", plus="")
SW_VERS = prog(SAFE, "prints the macOS version", "-productName -productVersion -productVersionExtra "
               "-buildVersion", operands="none", single_dash_long=True)
LOGNAME = prog(SAFE, "prints the login name", _HV, operands="none")
W = prog(SAFE, "prints who is logged in and what they run", "-h|--no-header -u|--no-current -s|--short "
         "-f|--from -o|--old-style -i|--ip-addr -p|--pids -d -n -M=:read -N=:read --help -V|--version",
         operands="data")
VM_STAT = prog(SAFE, "prints virtual memory statistics", "-c=", operands="data")
# man-db's whatis and apropos: -C reads a configuration file (a secret named there is read), the rest choose
# what is searched in the installed page indexes
WHATIS = prog(SAFE, "searches the manual page names and descriptions",
              "-d|--debug -v|--verbose -r|--regex -w|--wildcard -e|--exact -a|--and -l|--long -s|--sections|--section= "
              "-m|--systems= -M|--manpath= -L|--locale= -C|--config-file=:read -? --usage " + _HV, operands="data")
# who and users read a login-records file named as their operand (`who am i` reads nothing)
WHO = prog(SAFE, "prints who is logged in", "-a|--all -b|--boot -d|--dead -H|--heading --ips -l|--login --lookup "
          "-m -p|--process -q|--count -r|--runlevel -s|--short -t|--time -T|-w|--mesg|--message|--writable "
          "-u|--users " + _HV, operands="read")
USERS = prog(SAFE, "prints who is logged in", _HV, operands="read")
ARCH = prog(SAFE, "prints the machine architecture", None, operands="data", handler="arch")
HOSTNAME = prog(SAFE, "prints the host name", "-a|--alias -A|--all-fqdns -b|--boot:danger -d|--domain "
                "-f|--fqdn|--long -F|--file=:danger -i|--ip-address -I|--all-ip-addresses -s|--short -y|--yp|--nis "
                "-V|--version -h|--help", operands="data", handler="hostname")
EXPAND = prog(SAFE, "converts tabs to spaces", "-i|--initial -t|--tabs= " + _HV, numeric="")
UNEXPAND = prog(SAFE, "converts spaces to tabs", "-a|--all --first-only -t|--tabs= " + _HV, numeric="")
NUMFMT = prog(SAFE, "formats numbers", "--debug -d|--delimiter= --field= --format= --from= --from-unit= "
              "--grouping --header? --invalid= --padding= --round= --suffix= --to= --to-unit= -z|--zero-terminated "
              + _HV, operands="data")
TSORT = prog(SAFE, "sorts a graph", _HV)
FACTOR = prog(SAFE, "factors numbers", _HV, operands="data")
LOOK = prog(SAFE, "prints lines starting with a string", "-a|--alternative -b|--binary -d|--alphanum "
            "-f|--ignore-case -t|--terminate= " + _HV, operands="pattern-read")
JQ = prog(SAFE, "filters JSON", "-n|--null-input -R|--raw-input -s|--slurp -c|--compact-output "
          "-r|--raw-output -j|--join-output -a|--ascii-output -S|--sort-keys -C|--color-output "
          "-M|--monochrome-output --tab --indent= --unbuffered --stream --stream-errors --seq "
          "-e|--exit-status -f|--from-file=:read -L=:read --arg== --argjson== --slurpfile==:read "
          "--rawfile==:read --args --jsonargs --raw-output0 -h|--help -V|--version --build-configuration", handler="jq")
NPROC = prog(SAFE, "prints the number of processors", "--all --ignore= " + _HV, operands="none")

# -- text programs with a program text of their own ---------------------------------------

GREP = prog(SAFE, "searches files",
            "-E|--extended-regexp -F|--fixed-strings -G|--basic-regexp -P|--perl-regexp -e|--regexp=:pattern "
            "-f|--file=:pattern-read -i|--ignore-case --no-ignore-case -y -v|--invert-match -w|--word-regexp "
            "-x|--line-regexp -c|--count --color|--colour? -L|--files-without-match -l|--files-with-matches "
            "-m|--max-count= -o|--only-matching -q|--quiet|--silent -s|--no-messages -b|--byte-offset "
            "-H|--with-filename -h|--no-filename --label= -n|--line-number -T|--initial-tab "
            "-Z|--null -A|--after-context= -B|--before-context= -C|--context= -a|--text --binary-files= "
            "-D|--devices= -d|--directories=:grep-directories --exclude= --exclude-from=:read --exclude-dir= -I "
            "--include= "
            "-r|--recursive:recursive -R|--dereference-recursive:recursive --line-buffered -U|--binary -z|--null-data "
            "-u|--unix-byte-offsets -O -S -p --null --group-separator= --no-group-separator "
            "-J|--bz2decompress -Z|--decompress --mmap " + _HV, numeric="", operands="pattern-read")
RG = prog(SAFE, "searches files",
          "-e|--regexp=:pattern -f|--file=:pattern-read -A|--after-context= -B|--before-context= "
          "-C|--context= --binary --no-binary --block-buffered --line-buffered -b|--byte-offset "
          "-s|--case-sensitive --color= --colors= --column --no-column --context-separator= "
          "--no-context-separator -c|--count --count-matches --crlf --no-crlf --debug --trace --dfa-size-limit= "
          "-E|--encoding= --no-encoding --engine= --field-context-separator= --field-match-separator= "
          "--files -l|--files-with-matches --files-without-match -F|--fixed-strings --no-fixed-strings "
          "-L|--follow --no-follow --generate= -g|--glob= --glob-case-insensitive --no-glob-case-insensitive "
          "--heading --no-heading -. --hidden --no-hidden --hostname-bin=:exec --hyperlink-format= "
          "--iglob= -i|--ignore-case --ignore-file=:read --ignore-file-case-insensitive "
          "--no-ignore-file-case-insensitive --include-zero --no-include-zero -v|--invert-match --json "
          "--no-json --line-buffered -n|--line-number -N|--no-line-number -x|--line-regexp -M|--max-columns= "
          "--max-columns-preview --no-max-columns-preview -m|--max-count= -d|--max-depth|--maxdepth= "
          "--max-filesize= --mmap --no-mmap -U|--multiline --no-multiline --multiline-dotall "
          "--no-multiline-dotall --no-config --no-ignore --ignore --no-ignore-dot --no-ignore-exclude "
          "--no-ignore-files --no-ignore-global --no-ignore-messages --no-ignore-parent --no-ignore-vcs "
          "--no-messages --no-pcre2-unicode --no-unicode --unicode -0|--null --null-data "
          "--one-file-system --no-one-file-system -o|--only-matching --path-separator= --passthru|--passthrough "
          "-P|--pcre2 --no-pcre2 --pcre2-version -p|--pretty -q|--quiet --regex-size-limit= -r|--replace= "
          "-z|--search-zip --no-search-zip -S|--smart-case --sort= --sortr= --stats --no-stats --stop-on-nonmatch "
          "-a|--text --no-text -j|--threads= --trim --no-trim -t|--type= -T|--type-not= --type-add= "
          "--type-clear= --type-list -u|--unrestricted --vimgrep -H|--with-filename -I|--no-filename "
          "-w|--word-regexp --auto-hybrid-regex --no-auto-hybrid-regex --ignore-dot --ignore-exclude "
          "--ignore-global --ignore-parent --ignore-vcs --ignore-messages --pcre2-unicode --messages "
          "--pre=:exec --no-pre --pre-glob= -h|--help -V|--version", operands="pattern-read", handler="rg")
AG = prog(SAFE, "searches files", "-a|--all-types -A|--after= -B|--before= -C|--context= --color --nocolor "
          "--column -c|--count -f|--follow -F|--fixed-strings -G|--file-search-regex= -g= -H|--filename "
          "--noheading --heading -i|--ignore-case -s|--case-sensitive -S|--smart-case -l|--files-with-matches "
          "-L|--files-without-matches -m|--max-count= --depth= --hidden -u|--unrestricted -U|--skip-vcs-ignores "
          "-v|--invert-match -w|--word-regexp -Q|--literal -o|--only-matching -z|--search-zip --stats "
          "--ignore= --ignore-dir= -p|--path-to-ignore=:read --vimgrep -0|--null --print0 -t|--all-text "
          "-n|--norecurse -r|--recurse " + _HV, operands="pattern-read")
SED = prog(SAFE, "edits text", "-n|--quiet|--silent --debug -e|--expression=:script -f|--file=:script-file "
           "--follow-symlinks -i|--in-place?:inplace -l|--line-length= --posix -E|-r|--regexp-extended "
           "-s|--separate --sandbox -u|--unbuffered -z|--null-data -b|--binary " + _HV,
           operands="script-read", handler="sed")
# BSD/macOS sed: -i takes a (possibly empty) separate suffix, -I edits in place too, -E extended.
SED_BSD = prog(SAFE, "edits text", "-n -e=:script -f=:script-file -i=:inplace -I=:inplace -E -r -a -l -s -u "
               "-z --debug", operands="script-read", handler="sed")
AWK = prog(SAFE, "runs an awk program", "-F|--field-separator= -v|--assign=:awk-assign -f|--file=:script-file "
           "-e|--source=:script -E|--exec=:script-file -i|--include=:awk-include -l|--load=:danger "
           "-b|--characters-as-bytes -c|--traditional -C|--copyright -d|--dump-variables?:write "
           "-D|--debug?:danger -g|--gen-pot -h|--help -L|--lint? -M|--bignum -N|--use-lc-numeric "
           "-n|--non-decimal-data -o|--pretty-print?:write -O|--optimize -p|--profile?:write "
           "-P|--posix -r|--re-interval -s|--no-optimize -S|--sandbox -t|--lint-old -V|--version "
           "-W=:danger --csv -k -I", operands="script-read", handler="awk", permute=False)

# -- files ----------------------------------------------------------------------------------

MKDIR = prog(MUTATING, "creates directories", "-m|--mode= -p|--parents -v|--verbose -Z --context? " + _HV,
             operands="write")
TOUCH = prog(MUTATING, "creates or updates files", "-a -c|--no-create -d|--date= -f -h|--no-dereference -m "
             "-r|--reference= -t= --time= -A= " + _HV, operands="write")
CP = prog(MUTATING, "copies files", "-a|--archive:recursive --attributes-only --backup? -b --copy-contents -d "
          "-f|--force "
          "-i|--interactive -H -l|--link:link -L|--dereference -n|--no-clobber -P|--no-dereference -p "
          "--preserve? --no-preserve= --parents -R|-r|--recursive:recursive --reflink? --remove-destination --sparse= "
          "--strip-trailing-slashes -s|--symbolic-link:link -S|--suffix=:backup-suffix -t|--target-directory=:target "
          "-T|--no-target-directory -u|--update? -v|--verbose -x|--one-file-system -Z --context? "
          "--keep-directory-symlink --debug -c -X -N -c --update-none " + _HV, operands="copy")
MV = prog(MUTATING, "moves files", "--backup? -b --debug -f|--force -i|--interactive -n|--no-clobber "
          "--no-copy --exchange --strip-trailing-slashes -S|--suffix=:backup-suffix -t|--target-directory=:target "
          "-T|--no-target-directory -u|--update? -v|--verbose -Z|--context -h " + _HV, operands="copy",
          handler="mv")
LN = prog(MUTATING, "creates links", "--backup? -b -d|-F|--directory -f|--force -i|--interactive "
          "-L|--logical -n|--no-dereference -P|--physical -r|--relative -s|--symbolic -S|--suffix=:backup-suffix "
          "-t|--target-directory=:target -T|--no-target-directory -v|--verbose -h -w " + _HV, operands="copy",
          handler="ln")
INSTALL = prog(MUTATING, "installs files", "--backup? -b -c -C|--compare -d|--directory:install-dirs -D "
               "-g|--group= -m|--mode= -o|--owner= -p|--preserve-timestamps -s|--strip "
               "--strip-program=:exec -S|--suffix=:backup-suffix -t|--target-directory=:target "
               "-T|--no-target-directory "
               "-v|--verbose --preserve-context -Z|--context? -M -U -B= -f= -N= -l=:link " + _HV, operands="copy")
TEE = prog(MUTATING, "writes its input to files", "-a|--append -i|--ignore-interrupts -p --output-error? "
           + _HV, operands="write")
RMDIR = prog(MUTATING, "removes empty directories", "--ignore-fail-on-non-empty -p|--parents -v|--verbose "
             + _HV, operands="delete")
MKTEMP = prog(MUTATING, "creates a temporary file", "-d|--directory -u|--dry-run -q|--quiet --suffix= "
              "-p|--tmpdir?:writedir -t " + _HV, operands="write")
MKFIFO = prog(MUTATING, "creates a FIFO", "-m|--mode= -Z --context? " + _HV, operands="write")
SPLIT = prog(MUTATING, "splits a file into pieces", "-a|--suffix-length=:suffix-length "
             "--additional-suffix=:name-suffix -b|--bytes= "
             "-C|--line-bytes= -d --numeric-suffixes? -x --hex-suffixes? -e|--elide-empty-files "
             "--filter=:exec -l|--lines= -n|--number= -t|--separator= -u|--unbuffered --verbose -p= " + _HV,
             operands="none", handler="split")
CSPLIT = prog(MUTATING, "splits a file by context", "-b|--suffix-format=:name-format -f|--prefix=:name-prefix "
              "-k|--keep-files --suppress-matched -n|--digits= -s|--quiet|--silent -z|--elide-empty-files "
              + _HV, operands="none", handler="csplit")
PATCH = prog(MUTATING, "patches files", "-b|--backup -B|--prefix=:write-prefix -c|--context -d|--directory=:chdir "
             "-D|--ifdef= --dry-run -E|--remove-empty-files -e|--ed -f|--force -F|--fuzz= -g|--get= "
             "-i|--input=:read -l|--ignore-whitespace -m|--merge? -n|--normal -N|--forward "
             "-o|--output=:write -p|--strip= -r|--reject-file=:write -R|--reverse -s|--quiet|--silent "
             "-t|--batch -T|--set-time -u|--unified -v|--version -V|--version-control= --verbose "
             "-Y|--basename-prefix=:backup-name -z|--suffix=:backup-name -Z|--set-utc --binary --posix "
             "--backup-if-mismatch "
             "--no-backup-if-mismatch --read-only= --follow-symlinks --quoting-style= --reject-format= "
             "--help", operands="write", handler="patch")
COMPRESS = prog(MUTATING, "compresses or decompresses files in place",
                "-c|--stdout|--to-stdout -d|--decompress|--uncompress -f|--force -h|--help -k|--keep "
                "-l|--list -L|--license -n|--no-name -N|--name -q|--quiet -r|--recursive --rsyncable "
                "-S|--suffix= --synchronous -t|--test -v|--verbose -V|--version -1|--fast -2 -3 -4 -5 -6 -7 -8 "
                "-9|--best -z|--compress -e|--extreme -T|--threads= -M|--memlimit= -F|--format= -C|--check= "
                "-s|--small -0 --no-sparse --single-stream --ignore-check -Q|--no-warn --robot --info-version "
                "--long? --ultra --rm -o=:write --no-progress --progress -B= --block-size= -D=:read "
                "--memory= --adapt? --exclude-compressed --patch-from=:read", handler="compress")
TAR = prog(MUTATING, "creates or extracts archives",
           "-A|--catenate|--concatenate:tar-create -c|--create:tar-create -d|--diff|--compare -t|--list "
           "-r|--append:tar-create -u|--update:tar-create -x|--extract|--get:tar-extract --delete:tar-create "
           "-f|--file=:tar-file -C|--directory=:writedir -v|--verbose -z|--gzip|--gunzip|--ungzip "
           "-j|--bzip2 -J|--xz --zstd --lzip --lzma --lzop -Z|--compress|--uncompress -a|--auto-compress "
           "-p|--preserve-permissions|--same-permissions -k|--keep-old-files --keep-newer-files "
           "--skip-old-files --overwrite --overwrite-dir --no-overwrite-dir -U|--unlink-first "
           "--recursive-unlink -h|--dereference --hard-dereference -P|--absolute-names:danger "
           "-O|--to-stdout -m|--touch --no-same-owner --same-owner --no-same-permissions --numeric-owner "
           "--owner= --group= --mode= --mtime= --sort= --exclude= --exclude-from=:read -X=:read "
           "-T|--files-from=:names-read --null --no-null --anchored --no-anchored --wildcards --no-wildcards "
           "--strip-components= --transform|--xform= -s= --show-transformed-names --totals? "
           "--checkpoint? --checkpoint-action=:exec -I|--use-compress-program=:exec --to-command=:exec "
           "--info-script|--new-volume-script=:exec -F=:exec --rsh-command=:exec --format= -H= --posix "
           "--pax-option= -o -b|--blocking-factor= -B|--read-full-records -i|--ignore-zeros "
           "--ignore-failed-read --ignore-command-error --index-file=:write -l|--check-links "
           "--one-file-system --one-top-level? --no-recursion --recursion -w|--interactive|--confirmation "
           "-W|--verify --warning= -q|--fast-read --no-xattrs --xattrs --no-acls --acls --no-selinux "
           "--selinux -S|--sparse --level= -g|--listed-incremental=:write -G|--incremental -n|--seek "
           "--no-seek --backup? --suffix= --remove-files:tar-remove -V|--label= -M|--multi-volume "
           "-L|--tape-length= --volno-file=:write --exclude-vcs --exclude-vcs-ignores --exclude-caches "
           "--exclude-backups --exclude-tag= --utc --full-time --quoting-style= --quote-chars= "
           "--no-quote-chars --clamp-mtime --delay-directory-restore --no-delay-directory-restore "
           "--force-local --occurrence? --block-number -R --restrict --newer|--after-date= -N= "
           "--newer-mtime= --keep-directory-symlink --no-ignore-command-error --ignore-case --no-ignore-case "
           "--verbatim-files-from --no-verbatim-files-from --unquote --no-unquote --numeric-owner "
           "--owner-map=:read --group-map=:read --show-defaults --show-omitted-dirs --show-snapshot-field-ranges "
           "--record-size= --hole-detection= --lzip --atime-preserve? --preserve-order -e -y "
           "--options= -q " + _HV, permute=True, handler="tar")
UNZIP = prog(MUTATING, "extracts archives", "-l -v -t -z -Z -p -c -f -u -n -o -j -C -a -aa -b -B -K -L -M -N -q "
             "-qq -s -U -UU -V -W -X -D -DD -0 -: -^ -O= -I= -P= -d=:writedir -x " + _HV, operands="read",
             handler="unzip")
ZIP = prog(MUTATING, "creates archives", "-r|--recurse-paths -R -q|--quiet -v|--verbose -j|--junk-paths "
           "-0 -1 -2 -3 -4 -5 -6 -7 -8 -9 -u|--update -f|--freshen -d|--delete -m|--move:zip-move "
           "-x|--exclude= -i|--include= -e|--encrypt -P|--password= -y|--symlinks -D|--no-dir-entries "
           "-o|--latest-time -X|--no-extra -T|--test -TT|--unzip-command=:exec -@|--names-stdin:names-stdin "
           "-b|--temp-path=:writedir "
           "-n|--suffixes= -Z|--compression-method= -A|--adjust-sfx -c|--entry-comments -z|--archive-comment "
           "-g|--grow -F|--fix -FF|--fixfix -s|--split-size= -O|--output-file=:write -l -ll -L|--license "
           "-h|--help -h2|--more-help -v|--version -sf -sc -sp --sb -sv -dc -db -dd -ds= -du -dv -dg "
           "-t= -tt= -nw -ws -!", single_dash_long=True, handler="zip")

# -- network clients ------------------------------------------------------------------------

CURL = prog(NETWORK, "transfers data over the network",
            "-a|--append -A|--user-agent= --anyauth -b|--cookie=:curl-cookie -B|--use-ascii --basic "
            "-c|--cookie-jar=:write "
            "-C|--continue-at= --compressed --compressed-ssh --connect-timeout= --connect-to= "
            "--create-dirs --create-file-mode= --crlf -d|--data=:curl-data --data-ascii=:curl-data "
            "--data-binary=:curl-data --data-raw= --data-urlencode=:curl-data --digest --disable-eprt "
            "--disable-epsv --disallow-username-in-url --dns-servers= --doh-url= -D|--dump-header=:write "
            "--egd-file=:read --engine=:exec --etag-compare=:read --etag-save=:write --expect100-timeout= "
            "-f|--fail --fail-early --fail-with-body --false-start -F|--form=:curl-form "
            "--form-escape --form-string= --ftp-account= --ftp-alternative-to-user= --ftp-create-dirs "
            "--ftp-method= --ftp-pasv -P|--ftp-port= --ftp-pret --ftp-skip-pasv-ip --ftp-ssl-ccc "
            "--ftp-ssl-ccc-mode= --ftp-ssl-control -G|--get -g|--globoff --happy-eyeballs-timeout-ms= "
            "--haproxy-clientip= --haproxy-protocol -I|--head -H|--header=:curl-header -h|--help "
            "--hostpubmd5= --hostpubsha256= --hsts=:write --http0.9 -0|--http1.0 --http1.1 --http2 "
            "--http2-prior-knowledge --http3 --http3-only --ignore-content-length -k|--insecure "
            "--interface= --ipfs-gateway= -4|--ipv4 -6|--ipv6 --json=:curl-data -j|--junk-session-cookies "
            "--keepalive-time= --key=:read --key-type= --krb= --libcurl=:write --limit-rate= "
            "-l|--list-only --local-port= -L|--location --location-trusted --login-options= "
            "--mail-auth= --mail-from= --mail-rcpt= --mail-rcpt-allowfails -M|--manual --max-filesize= "
            "--max-redirs= -m|--max-time= --metalink --negotiate -n|--netrc --netrc-file=:read "
            "--netrc-optional --next|-: -N|--no-buffer --no-clobber --no-keepalive --no-npn "
            "--no-progress-meter --no-sessionid --noproxy= --ntlm --ntlm-wb --oauth2-bearer= "
            "-o|--output=:write --output-dir=:writedir -Z|--parallel --parallel-immediate --parallel-max= "
            "--pass= --path-as-is --pinnedpubkey= --post301 --post302 --post303 --preproxy= "
            "-#|--progress-bar --proto= --proto-default= --proto-redir= -x|--proxy= --proxy-anyauth "
            "--proxy-basic --proxy-cacert=:read --proxy-capath= --proxy-cert=:read --proxy-cert-type= "
            "--proxy-ciphers= --proxy-crlfile=:read --proxy-digest --proxy-header=:curl-header --proxy-insecure "
            "--proxy-key=:read --proxy-key-type= --proxy-negotiate --proxy-ntlm --proxy-pass= "
            "--proxy-pinnedpubkey= --proxy-service-name= --proxy-ssl-allow-beast --proxy-ssl-auto-client-cert "
            "--proxy-tls13-ciphers= --proxy-tlsauthtype= --proxy-tlspassword= --proxy-tlsuser= "
            "--proxy-tlsv1 -U|--proxy-user= --proxy1.0= -p|--proxytunnel --pubkey=:read -Q|--quote= "
            "--random-file=:read -r|--range= --rate= --raw -e|--referer= -J|--remote-header-name:danger "
            "-O|--remote-name:curl-remote --remote-name-all:curl-remote -R|--remote-time "
            "--remove-on-error --request-target= -X|--request= --resolve= --retry= --retry-all-errors "
            "--retry-connrefused --retry-delay= --retry-max-time= --sasl-authzid= --sasl-ir "
            "--service-name= -S|--show-error -s|--silent --socks4= --socks4a= --socks5= --socks5-basic "
            "--socks5-gssapi --socks5-gssapi-nec --socks5-gssapi-service= --socks5-hostname= "
            "-Y|--speed-limit= -y|--speed-time= --ssl --ssl-allow-beast --ssl-auto-client-cert "
            "--ssl-no-revoke --ssl-reqd --ssl-revoke-best-effort -2|--sslv2 -3|--sslv3 --stderr=:write "
            "--styled-output --suppress-connect-headers --tcp-fastopen --tcp-nodelay "
            "-t|--telnet-option= --tftp-blksize= --tftp-no-options -z|--time-cond= --tls-max= "
            "--tls13-ciphers= --tlsauthtype= --tlspassword= --tlsuser= -1|--tlsv1 --tlsv1.0 --tlsv1.1 "
            "--tlsv1.2 --tlsv1.3 --tr-encoding --trace=:write --trace-ascii=:write --trace-config= "
            "--trace-ids --trace-time --unix-socket=:local-socket -T|--upload-file=:read --url=:curl-url "
            "--url-query=:curl-data "
            "-B|--use-ascii -u|--user= -w|--write-out=:curl-format -V|--version -v|--verbose "
            "--abstract-unix-socket=:local-socket "
            "--alt-svc=:write --aws-sigv4= --cacert=:read --capath= -E|--cert=:read --cert-status "
            "--cert-type= --ciphers= --crlfile=:read --curves= --delegation= --ca-native --dump-ca-embed "
            "--ip-tos= --mptcp --proxy-ca-native --skip-existing --variable=:curl-data --vlan-priority= "
            "-K|--config=:config -q|--disable", handler="curl")
WGET = prog(NETWORK, "downloads",
            "-V|--version -h|--help -b|--background -o|--output-file=:write -a|--append-output=:write "
            "-d|--debug -q|--quiet -v|--verbose -nv|--no-verbose --report-speed= -i|--input-file=:read "
            "-F|--force-html -B|--base= --config=:config --no-config -e|--execute=:danger "
            "--rejected-log=:write -t|--tries= --retry-connrefused --retry-on-host-error --retry-on-http-error= "
            "-O|--output-document=:write -nc|--no-clobber --no-netrc -c|--continue --start-pos= "
            "--progress= --show-progress -N|--timestamping --no-if-modified-since --no-use-server-timestamps "
            "-S|--server-response --spider -T|--timeout= --dns-timeout= --connect-timeout= --read-timeout= "
            "-w|--wait= --waitretry= --random-wait --no-proxy -Q|--quota= --bind-address= --limit-rate= "
            "--no-dns-cache --restrict-file-names= -4|--inet4-only -6|--inet6-only --prefer-family= "
            "--user= --password= --ask-password --use-askpass?:exec --no-iri --local-encoding= "
            "--remote-encoding= --unlink --xattr -nd|--no-directories -x|--force-directories "
            "-nH|--no-host-directories --protocol-directories -P|--directory-prefix=:writedir "
            "--cut-dirs= --default-page= -E|--adjust-extension --http-user= --http-password= "
            "--no-http-keep-alive --no-cache --no-cookies --load-cookies=:read --save-cookies=:write "
            "--keep-session-cookies --ignore-length --header= --compression= --max-redirect= "
            "--proxy-user= --proxy-password= --referer= --save-headers -U|--user-agent= "
            "--post-data= --post-file=:read --method= --body-data= --body-file=:read --content-disposition:danger "
            "--content-on-error --auth-no-challenge --secure-protocol= --https-only --no-check-certificate "
            "--certificate=:read --certificate-type= --private-key=:read --private-key-type= "
            "--ca-certificate=:read --ca-directory= --crl-file=:read --pinnedpubkey= --random-file=:read "
            "--egd-file=:read --ciphers= --no-hsts --hsts-file=:write --ftp-user= --ftp-password= "
            "--no-remove-listing --no-glob --no-passive-ftp --preserve-permissions --retr-symlinks "
            "--warc-file=:write --warc-header= --warc-max-size= --warc-cdx --warc-dedup=:read "
            "--no-warc-compression --no-warc-digests --no-warc-keep-log --warc-tempdir=:writedir "
            "-r|--recursive:danger -l|--level= --delete-after -k|--convert-links --convert-file-only "
            "-K|--backup-converted -m|--mirror:danger -p|--page-requisites --strict-comments -A|--accept= "
            "-R|--reject= --accept-regex= --reject-regex= --regex-type= -D|--domains= --exclude-domains= "
            "--follow-ftp --follow-tags= --ignore-tags= -H|--span-hosts -L|--relative -I|--include-directories= "
            "--trust-server-names:danger -X|--exclude-directories= -np|--no-parent --backups= --no-verbose",
            single_dash_long=True, handler="wget")
SSH = prog(NETWORK, "opens a remote shell",
           "-4 -6 -A -a -C -f -G -g -K -k -M -N -n -q -s -T -t -V -v -X -x -Y -y -B= -b= -c= -D= "
           "-E=:write -e= -F=:config -I=:danger -i=:read -J= -L= -l= -m= -O= -o=:ssh-option -P= -p= -Q= "
           "-R= -S=:write -W= -w=", permute=False, operands="data", handler="ssh")
SCP = prog(NETWORK, "copies over the network",
           "-3 -4 -6 -A -B -C -O -p -q -R -r -s -T -v -c= -D=:exec -F=:config -i=:read -J= -l= -o=:ssh-option "
           "-P= -S=:exec -X=", operands="data", handler="remote-copy", permute=False)
# sftp reads commands (a batch file, or its input), and `!command` runs a local shell command.
SFTP = prog(DANGEROUS, "reads commands from a batch file or its input, which run local shell commands with !",
            "-4 -6 -A -a -C -f -N -p -q -r -v -B= -b=:read -c= -D=:exec -F=:config -i=:read -J= -l= "
            "-o=:ssh-option -P= -R= -S=:exec -s=:exec -X=", operands="data", permute=False)
RSYNC = prog(NETWORK, "syncs files, possibly over the network",
             "-v|--verbose --info= --debug= --stderr= -q|--quiet --no-motd -c|--checksum -a|--archive:recursive "
             "--no-OPTION -r|--recursive -R|--relative --no-implied-dirs -b|--backup --backup-dir=:rsync-dest-dir "
             "--suffix= -u|--update --inplace --append --append-verify -d|--dirs --mkpath -l|--links "
             "-L|--copy-links --copy-unsafe-links --safe-links --munge-links -k|--copy-dirlinks "
             "-K|--keep-dirlinks -H|--hard-links -p|--perms -E|--executability --chmod= -A|--acls "
             "-X|--xattrs -o|--owner -g|--group --devices --copy-devices --write-devices --specials -D "
             "-t|--times -U|--atimes --open-noatime -N|--crtimes -O|--omit-dir-times -J|--omit-link-times "
             "--super --fake-super -S|--sparse --preallocate -n|--dry-run -W|--whole-file "
             "--checksum-choice|--cc= -x|--one-file-system -B|--block-size= -e|--rsh=:sh-argv "
             "--rsync-path=:danger --existing --ignore-existing --remove-source-files:danger --del:danger "
             "--delete:danger --delete-before:danger --delete-during:danger --delete-delay:danger "
             "--delete-after:danger --delete-excluded:danger --ignore-missing-args --delete-missing-args:danger "
             "--ignore-errors --force --max-delete= --max-size= --min-size= --max-alloc= --partial "
             "--partial-dir=:rsync-dest-dir --delay-updates -m|--prune-empty-dirs --numeric-ids --usermap= --groupmap= "
             "--chown= --timeout= --contimeout= -I|--ignore-times --size-only -@|--modify-window= "
             "-T|--temp-dir=:rsync-dest-dir -y|--fuzzy --compare-dest=:read --copy-dest=:read --link-dest=:link-dir "
             "-z|--compress "
             "--compress-choice|--zc= --compress-level|--zl= --skip-compress= -C|--cvs-exclude "
             "-f|--filter=:rsync-filter -F --exclude= --exclude-from=:read --include= --include-from=:read "
             "--files-from=:names-read -0|--from0 --old-args -s|--secluded-args|--protect-args --trust-sender "
             "--copy-as= --address= --port= --sockopts= --blocking-io --outbuf= --stats -8|--8-bit-output "
             "-h|--human-readable --progress -P -i|--itemize-changes -M|--remote-option= --out-format= "
             "--log-file=:write --log-file-format= --password-file=:read --early-input=:read --list-only "
             "--bwlimit= --stop-after= --stop-at= --fsync --write-batch=:write --only-write-batch=:write "
             "--read-batch=:applies --protocol= --iconv= --checksum-seed= -4|--ipv4 -6|--ipv6 -V|--version "
             "--help --no-o --no-g --no-p --no-t --no-r --no-l --no-D --no-H", operands="data",
             handler="remote-copy")
NC = prog(NETWORK, "opens network connections",
          "-4 -6 -b -C -D -d -F -h -k -l -N -n -r -S -t -U|--unixsock:local-socket -u -v -z -c:danger -e=:danger "
          "-I= -i= -M= -m= -O= "
          "-o=:write -P= -p= -q= -s= -T= -V= -w= -X= -x= --exec=:danger --sh-exec=:danger --lua-exec=:danger "
          "-L= -G= -g=", operands="data")
DNS = prog(NETWORK, "queries a remote service", None, operands="data")
DIG = prog(NETWORK, "queries DNS", "-4 -6 -b= -c= -f=:read -h -i -k=:read -m -p= -q= -r -t= -u -v -x= -y=",
           operands="data", plus="")
HTTPIE = prog(NETWORK, "makes HTTP requests", "-o|--output=:write -d|--download -c|--continue -f|--form -j|--json "
              "-b|--body -h|--headers -v|--verbose -p|--print= -a|--auth= -A|--auth-type= --session=:write "
              "--session-read-only=:read --offline --follow -F --max-redirects= --timeout= --verify= --cert=:read "
              "--cert-key=:read -I|--ignore-stdin --pretty= -s|--style= -S|--stream -q|--quiet --check-status "
              "--raw= -x|--compress --multipart --boundary= -m|--all " + _HV, operands="data", handler="httpie")
