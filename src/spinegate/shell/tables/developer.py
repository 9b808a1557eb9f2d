"""Tables of developer tools: git, package managers, build tools and test runners.

Tools that run project or package code (installs with lifecycle scripts,
`make`, `cargo run`, test runners) are SHELL_DANGEROUS: what they run is
not on the command line. A manifest that wants an agent to run tests says
so with a `shell.rules` entry (docs/policy.md).
"""

from __future__ import annotations

from ..model import DANGEROUS, MUTATING, NETWORK, SAFE, Program, prog

_HV = "--help --version"

# -- git ------------------------------------------------------------------------------------

_PATHSPEC = "--literal-pathspecs --glob-pathspecs --noglob-pathspecs --icase-pathspecs --pathspec-from-file=:read " \
            "--pathspec-file-nul"
# Options shared by log, show, diff, whatchanged (revision walking and diff output).
_DIFF = ("-p|-u|--patch -s|--no-patch -U|--unified= --output=:write --output-indicator-new= "
         "--output-indicator-old= --output-indicator-context= --raw --patch-with-raw -t --indent-heuristic "
         "--no-indent-heuristic --minimal --patience --histogram --anchored= --diff-algorithm= --stat? "
         "--stat-width= --stat-name-width= --stat-count= --stat-graph-width= --compact-summary --numstat "
         "--shortstat -X|--dirstat? --cumulative --dirstat-by-file? --summary --patch-with-stat -z "
         "--name-only --name-status --submodule? --color? --no-color --color-moved? --no-color-moved "
         "--color-moved-ws= --no-color-moved-ws --word-diff? --word-diff-regex= --color-words? "
         "--no-renames --rename-empty --no-rename-empty --check --ws-error-highlight= --full-index --binary "
         "--abbrev? -B|--break-rewrites? -M|--find-renames? -C|--find-copies? --find-copies-harder "
         "-D|--irreversible-delete -l= --diff-filter= -S= -G= --find-object= --pickaxe-all --pickaxe-regex "
         "-O=:read --skip-to= --rotate-to= -R --relative? --no-relative -a|--text --ignore-cr-at-eol "
         "--ignore-space-at-eol -b|--ignore-space-change -w|--ignore-all-space --ignore-blank-lines "
         "-I|--ignore-matching-lines= --inter-hunk-context= -W|--function-context --exit-code --quiet "
         "--ext-diff:danger --no-ext-diff --textconv:danger --no-textconv --ignore-submodules? "
         "--src-prefix= --dst-prefix= --no-prefix --default-prefix --line-prefix= --ita-invisible-in-index "
         "--ita-visible-in-index --cc -c --combined-all-paths -m --diff-merges= --no-diff-merges "
         "--remerge-diff --dd --first-parent --base --ours --theirs -0 -1 -2 -3 --staged --cached "
         "--merge-base --no-index:readops")
_LOG = ("--follow --no-decorate --decorate? --decorate-refs= --decorate-refs-exclude= --clear-decorations "
        "--source --mailmap|--use-mailmap --no-mailmap|--no-use-mailmap --full-diff --log-size -L= "
        "-n|--max-count= --skip= --since|--after= --since-as-filter= --until|--before= --author= "
        "--committer= --grep-reflog= --grep= --all-match --invert-grep -i|--regexp-ignore-case "
        "--basic-regexp -E|--extended-regexp -F|--fixed-strings -P|--perl-regexp --remove-empty --merges "
        "--no-merges --min-parents= --max-parents= --no-min-parents --no-max-parents --exclude-first-parent-only "
        "--not --all --branches? --tags? --remotes? --glob= --exclude= --exclude-hidden= --reflog "
        "--alternate-refs --single-worktree --ignore-missing --bisect --stdin --cherry-mark --cherry-pick "
        "--left-only --right-only --cherry -g|--walk-reflogs --merge --boundary --simplify-by-decoration "
        "--show-pulls --full-history --dense --sparse --simplify-merges --ancestry-path? --date-order "
        "--author-date-order --topo-order --reverse --no-walk? --do-walk --pretty|--format? --abbrev-commit "
        "--no-abbrev-commit --oneline --encoding= --expand-tabs? --no-expand-tabs --notes? --no-notes "
        "--show-notes? --standard-notes --no-standard-notes --show-signature --relative-date --date= "
        "--parents --children --left-right --graph --show-linear-break? --count --no-max-count --in-commit-order "
        "--show-origin --unpacked --objects --objects-edge --no-filter --filter= --show-line-prefix "
        "--early-output --no-graph --show-pulls --timestamp --branches --indexed-objects --use-bitmap-index "
        "--progress= -v")
_GIT_READ = prog(SAFE, "only reads the repository", _DIFF + " " + _LOG + " " + _PATHSPEC, operands="data",
                 numeric="", handler="git-read")
_GIT_STATUS = prog(SAFE, "only reads the repository",
                   "-s|--short -b|--branch --show-stash --porcelain? --long -v|--verbose -u|--untracked-files? "
                   "--ignore-submodules? --ignored? -z --column? --no-column --ahead-behind --no-ahead-behind "
                   "--renames --no-renames --find-renames? " + _PATHSPEC, operands="data")
_GIT_BLAME = prog(SAFE, "only reads the repository",
                  "-b --root --show-stats --progress --no-progress --score-debug -f|--show-name -n|--show-number "
                  "-p|--porcelain --line-porcelain -c -t -l -s -e|--show-email -w --ignore-rev= "
                  "--ignore-revs-file=:read --color-lines --color-by-age --minimal -S=:read --reverse= "
                  "--first-parent -L= -M? -C? --abbrev? --incremental --encoding= --contents=:read --date= "
                  "--since= --until=", operands="data", handler="git-read")
_GIT_GREP = prog(SAFE, "searches the repository",
                 "--cached --untracked --no-index:readops --no-exclude-standard --exclude-standard "
                 "--recurse-submodules -a|--text --textconv:danger --no-textconv -i|--ignore-case -I "
                 "--max-depth= -r|--recursive --no-recursive -w|--word-regexp -v|--invert-match -h -H "
                 "--full-name -E|--extended-regexp -G|--basic-regexp -P|--perl-regexp -F|--fixed-strings "
                 "-n|--line-number --column -l|--files-with-matches|--name-only -L|--files-without-match "
                 "-O|--open-files-in-pager?:exec -z|--null -o|--only-matching -c|--count --color? --no-color "
                 "--break --heading -p|--show-function -A|--after-context= -B|--before-context= "
                 "-C|--context= -W|--function-context -m|--max-count= --threads= -f=:read -e=:pattern --and --or "
                 "--not --all-match -q|--quiet", operands="data", numeric="", handler="git-read")
_GIT_LSFILES = prog(SAFE, "lists files in the repository",
                    "-c|--cached -d|--deleted -m|--modified -o|--others -i|--ignored -s|--stage -k|--killed "
                    "--directory --no-empty-directory -u|--unmerged --resolve-undo -z -x|--exclude= "
                    "-X|--exclude-from=:read --exclude-per-directory= --exclude-standard --error-unmatch "
                    "--with-tree= -t -v -f --full-name --recurse-submodules --abbrev? --debug --eol "
                    "--deduplicate --sparse --format=", operands="data")
_GIT_REVPARSE = prog(SAFE, "only reads the repository",
                     "--parseopt --sq-quote --keep-dashdash --stop-at-non-option --stuck-long --revs-only "
                     "--no-revs --flags --no-flags --default= --prefix= --verify -q|--quiet --sq --short? --not "
                     "--abbrev-ref? --symbolic --symbolic-full-name --output-object-format= --all --branches? "
                     "--tags? --remotes? --glob= --exclude= --exclude-hidden= --disambiguate= "
                     "--local-env-vars --path-format= --git-dir --git-common-dir --resolve-git-dir "
                     "--git-path --show-toplevel --show-superproject-working-tree --shared-index-path "
                     "--absolute-git-dir --is-inside-git-dir --is-inside-work-tree --is-bare-repository "
                     "--is-shallow-repository --show-cdup --show-prefix --show-object-format? --show-ref-format "
                     "--since|--after= --until|--before=", operands="data")
_GIT_GENERIC_READ = prog(SAFE, "only reads the repository",
                         "-a|--all -v|--verbose -q|--quiet -z --format= --abbrev? --tags --long --always "
                         "--contains? --no-contains? --merged? --no-merged? --points-at= --sort= --count= "
                         "--exclude= --match= --dirty? --broken? --candidates= --exact-match --first-parent "
                         "--debug -n= -e -s -t -p --batch?:names-stdin --batch-check? --batch-command?:names-stdin "
                         "--batch-all-objects "
                         "--buffer --unordered --follow-symlinks --allow-unknown-type --textconv:danger "
                         "--filters:danger --path= --heads --head --dereference -d --hash? --verify --name-only "
                         "--name-status --stdin --no-undefined --annotate --refs --no-refs --exclude-existing? "
                         "-r -t -l|--long -d --full-name --full-tree --object-only --abbrev? --ignore-case "
                         "--no-index:readops --exclude-standard --missing --cached --color? --no-color "
                         "--sha1-name --more? --list --independent --octopus --is-ancestor --fork-point "
                         "-c|--summary -e|--email -n|--numbered -s|--summary -w? --group= --committer "
                         "--show-origin --show-scope --null -H -H --human-readable --topo-order --date-order "
                         "--reflog? --current --no-name --all --unpacked --objects --name-only "
                         "--stdin-packs --show-current --show-name --creator-percentage= --ignore-space-change "
                         "--left-only --right-only --no-dual-color --creation-factor=" + " " + _LOG,
                         operands="data", numeric="", handler="git-read")
_GIT_SHORTLOG = prog(SAFE, "only reads the repository",
                     "-n|--numbered -s|--summary -e|--email -c|--committer -w? --format= --group= " + _LOG,
                     operands="data")
_GIT_BRANCH = prog(SAFE, "lists or changes branches",
                   "-a|--all -r|--remotes -v|-vv|--verbose -q|--quiet --list -l --show-current --color? "
                   "--no-color --column? --no-column --sort= --merged? --no-merged? --contains? --no-contains? "
                   "--points-at= --format= --abbrev? --no-abbrev -i|--ignore-case --omit-empty "
                   "-d|--delete:danger -D:danger -f|--force:danger -m|--move:mut -M:danger -c|--copy:mut -C:danger "
                   "-t|--track?:mut --no-track:mut -u|--set-upstream-to=:mut --unset-upstream:mut "
                   "--edit-description:danger --create-reflog:mut --recurse-submodules:mut", operands="data",
                   handler="git-branch")
_GIT_TAG = prog(SAFE, "lists or creates tags",
                "-l|--list -n? --sort= --contains? --no-contains? --merged? --no-merged? --points-at= "
                "--column? --no-column --format= --color? -i|--ignore-case --omit-empty -v|--verify:mut "
                "-a|--annotate:mut -s|--sign:mut -u|--local-user=:mut -f|--force:danger -d|--delete:danger "
                "-m|--message=:mut -F|--file=:read -e|--edit:danger --cleanup= --create-reflog:mut "
                "--trailer=:mut", operands="data", handler="git-tag")
_GIT_REMOTE = prog(SAFE, "lists remotes", "-v|--verbose", operands="data", handler="git-remote")
_GIT_STASH = prog(MUTATING, "stashes changes", "-p|--patch -k|--keep-index --no-keep-index -u|--include-untracked "
                  "-a|--all -q|--quiet -m|--message= --staged --index -S --pathspec-from-file=:read "
                  "--pathspec-file-nul --only-untracked " + _LOG + " " + _DIFF, operands="data",
                  handler="git-stash")
_COMMIT_OPTS = ("-a|--all -p|--patch -C|--reuse-message= -c|--reedit-message=:danger --fixup= --squash= "
                "--reset-author --short --branch --porcelain --long -z|--null -F|--file=:read --author= "
                "--date= -m|--message= -t|--template=:read -s|--signoff --no-signoff --trailer= "
                "-n|--no-verify:danger --verify --allow-empty --allow-empty-message --cleanup= "
                "-e|--edit:danger --no-edit -i|--include -o|--only -u|--untracked-files? -v|--verbose "
                "-q|--quiet --dry-run --status --no-status -S|--gpg-sign? --no-gpg-sign --amend "
                "--no-post-rewrite " + _PATHSPEC)
def _mut(spec: str, why: str = "changes the repository", handler: str | None = None) -> Program:
    """A git sub-command that changes the repository (its operands are revisions and pathspecs)."""
    return prog(MUTATING, why, spec, operands="data", handler=handler)

GIT = prog(SAFE, "runs a git command",
           "-C=:chdir -c=:config --config-env=:config --exec-path?:exec-path --git-dir=:git-dir "
           "--work-tree=:chdir --namespace= --bare --no-pager -P -p|--paginate --no-replace-objects "
           "--no-lazy-fetch --no-optional-locks --no-advice --literal-pathspecs --glob-pathspecs "
           "--noglob-pathspecs --icase-pathspecs --super-prefix= --list-cmds= --attr-source= --html-path "
           "--man-path --info-path -v|--version -h|--help", permute=False, operands="data",
           no_subcommand=prog(SAFE, "prints help", None, operands="none"),
           subcommands={
               "status": _GIT_STATUS, "log": _GIT_READ, "show": _GIT_READ, "diff": _GIT_READ,
               "whatchanged": _GIT_READ, "blame": _GIT_BLAME, "annotate": _GIT_BLAME, "grep": _GIT_GREP,
               "ls-files": _GIT_LSFILES, "rev-parse": _GIT_REVPARSE, "ls-tree": _GIT_GENERIC_READ,
               "describe": _GIT_GENERIC_READ, "shortlog": _GIT_SHORTLOG, "cat-file": _GIT_GENERIC_READ,
               "rev-list": _GIT_GENERIC_READ, "show-ref": _GIT_GENERIC_READ, "name-rev": _GIT_GENERIC_READ,
               "merge-base": _GIT_GENERIC_READ, "count-objects": _GIT_GENERIC_READ,
               "check-ignore": _GIT_GENERIC_READ, "for-each-ref": _GIT_GENERIC_READ,
               "show-branch": _GIT_GENERIC_READ, "check-attr": _GIT_GENERIC_READ, "cherry": _GIT_GENERIC_READ,
               "range-diff": _GIT_GENERIC_READ, "diff-tree": _GIT_READ, "diff-index": _GIT_READ,
               "diff-files": _GIT_READ, "var": _GIT_GENERIC_READ, "version": _GIT_GENERIC_READ,
               "help": prog(SAFE, "prints help", "-a|--all -g|--guides -c|--config -i|--info -m|--man "
                            "-w|--web:danger --verbose --no-external-commands --no-aliases --user-interfaces "
                            "--developer-interfaces", operands="data"),
               "branch": _GIT_BRANCH, "tag": _GIT_TAG, "remote": _GIT_REMOTE, "stash": _GIT_STASH,
               "config": prog(SAFE, "reads or sets configuration", None, operands="data", handler="git-config"),
               "add": _mut("-n|--dry-run -v|--verbose -f|--force -i|--interactive -p|--patch -e|--edit:danger "
                           "-u|--update -A|--all --no-all --ignore-removal --no-ignore-removal -N|--intent-to-add "
                           "--refresh --ignore-errors --ignore-missing --sparse --renormalize --chmod= "
                           "--no-warn-embedded-repo " + _PATHSPEC, handler="git-add"),
               "commit": _mut(_COMMIT_OPTS),
               "checkout": _mut("-q|--quiet --progress --no-progress -f|--force:danger --ours --theirs -b= -B= "
                                "-t|--track? --no-track --guess --no-guess -l -d|--detach --orphan= "
                                "--ignore-skip-worktree-bits -m|--merge --conflict= -p|--patch "
                                "--ignore-other-worktrees --overwrite-ignore --no-overwrite-ignore "
                                "--recurse-submodules --no-recurse-submodules --overlay --no-overlay " + _PATHSPEC,
                                handler="git-checkout"),
               "switch": _mut("-c|--create= -C|--force-create= -d|--detach --guess --no-guess -f|--force "
                              "|--discard-changes:danger -m|--merge --conflict= -q|--quiet --progress "
                              "--no-progress -t|--track? --no-track --orphan= --ignore-other-worktrees "
                              "--recurse-submodules --no-recurse-submodules"),
               "restore": _mut("-s|--source= -p|--patch -W|--worktree -S|--staged -q|--quiet --progress "
                               "--no-progress --ours --theirs -m|--merge --conflict= --ignore-unmerged "
                               "--ignore-skip-worktree-bits --recurse-submodules --no-recurse-submodules "
                               "--overlay --no-overlay " + _PATHSPEC, handler="git-restore"),
               "merge": _mut("--commit --no-commit --edit:danger -e:danger --no-edit --cleanup= --ff --no-ff "
                             "--ff-only -S|--gpg-sign? --no-gpg-sign --log? --no-log --signoff --no-signoff "
                             "--stat -n --no-stat --squash --no-squash --verify --no-verify:danger "
                             "-s|--strategy= -X|--strategy-option= --verify-signatures --no-verify-signatures "
                             "-q|--quiet -v|--verbose --progress --no-progress --autostash --no-autostash "
                             "--allow-unrelated-histories -m= -F|--file=:read --into-name= --abort --quit "
                             "--continue --rerere-autoupdate --no-rerere-autoupdate"),
               "rebase": _mut("--onto= --keep-base --continue --skip --abort --quit --apply --merge -m "
                              "-s|--strategy= -X|--strategy-option= -q|--quiet -v|--verbose --stat -n|--no-stat "
                              "--no-verify:danger --verify -C= --ignore-whitespace --whitespace= "
                              "--committer-date-is-author-date --ignore-date --reset-author-date --signoff "
                              "-f|--force-rebase --no-ff --fork-point --no-fork-point -r|--rebase-merges? "
                              "--no-rebase-merges --root --autosquash --no-autosquash --autostash --no-autostash "
                              "--reschedule-failed-exec --no-reschedule-failed-exec --update-refs "
                              "--no-update-refs --empty= --keep-empty --no-keep-empty -S|--gpg-sign? "
                              "--no-gpg-sign -x|--exec=:exec -i|--interactive:danger --edit-todo:danger "
                              "--show-current-patch"),
               "cherry-pick": _mut("-e|--edit:danger --cleanup= -x -r -m|--mainline= -n|--no-commit "
                                   "-s|--signoff -S|--gpg-sign? --no-gpg-sign --ff --allow-empty "
                                   "--allow-empty-message --empty= --keep-redundant-commits "
                                   "--strategy= -X|--strategy-option= --rerere-autoupdate --no-rerere-autoupdate "
                                   "--continue --skip --quit --abort"),
               "revert": _mut("-e|--edit:danger --no-edit --cleanup= -m|--mainline= -n|--no-commit "
                              "-S|--gpg-sign? --no-gpg-sign -s|--signoff --strategy= -X|--strategy-option= "
                              "--rerere-autoupdate --no-rerere-autoupdate --reference --continue --skip --quit "
                              "--abort"),
               "reset": _mut("-q|--quiet --no-quiet --refresh --no-refresh --soft --mixed --hard:danger "
                             "--merge:danger --keep -p|--patch -N --recurse-submodules? --no-recurse-submodules "
                             + _PATHSPEC),
               "mv": _mut("-v|--verbose -f|--force -k -n|--dry-run --sparse", handler="git-mv"),
               "rm": _mut("-f|--force -n|--dry-run -r --cached --ignore-unmatch --sparse -q|--quiet "
                          + _PATHSPEC, handler="git-rm"),
               "init": _mut("-q|--quiet --bare --object-format= --ref-format= --template=:config "
                            "--separate-git-dir=:write -b|--initial-branch= --shared?", handler="git-init"),
               "apply": prog(DANGEROUS, "writes the files the patch names (they may include protected files)",
                             "--stat --numstat --summary --check --index -3|--3way --ours --theirs --union "
                             "--build-fake-ancestor=:write -R|--reverse --reject -z -p= -C= --unidiff-zero "
                             "--apply --no-add --allow-binary-replacement --binary --exclude= --include= "
                             "--ignore-space-change --ignore-whitespace --whitespace= --inaccurate-eof "
                             "-v|--verbose -q|--quiet --cached --intent-to-add --recount --directory= "
                             "--unsafe-paths:danger --allow-empty", operands="data", handler="git-apply"),
               "am": prog(DANGEROUS, "writes the files the patches name (they may include protected files)",
                          "-s|--signoff -k|--keep --keep-non-patch --keep-cr --no-keep-cr -c|--scissors "
                          "--no-scissors --quoted-cr= -m|--message-id --no-message-id -q|--quiet -u|--utf8 "
                          "--no-utf8 -3|--3way --no-3way --rerere-autoupdate --no-rerere-autoupdate "
                          "--ignore-space-change --ignore-whitespace --whitespace= -C= -p= --directory= "
                          "--exclude= --include= --reject -i|--interactive:danger --no-verify:danger "
                          "--committer-date-is-author-date --ignore-date --skip -S|--gpg-sign? --no-gpg-sign "
                          "--continue|-r|--resolved --resolvemsg= --abort --quit --retry "
                          "--show-current-patch? --allow-empty --empty=", operands="data"),
               "notes": _mut("--ref= -f|--force -m|--message= -F|--file=:read -C|--reuse-message= "
                             "-c|--reedit-message=:danger --allow-empty --stripspace --no-stripspace -e:danger "
                             "-n --ignore-missing --stdin -s|--strategy= --commit --abort -v -q"),
               "worktree": _mut("-f|--force -d|--detach --checkout --no-checkout --lock --reason= "
                                "--orphan -b= -B= --track --no-track --guess-remote --no-guess-remote "
                                "-q|--quiet -v|--verbose --porcelain -z --expire= -n|--dry-run --relative-paths "
                                "--no-relative-paths", handler="git-worktree"),
               "sparse-checkout": _mut("--cone --no-cone --sparse-index --no-sparse-index --stdin --skip-checks"),
               "gc": _mut("--aggressive --auto --quiet --prune? --no-prune --force --keep-largest-pack "
                          "--cruft --no-cruft --max-cruft-size= --detach --no-detach"),
               "prune": _mut("-n|--dry-run -v|--verbose --progress --expire="),
               "reflog": prog(SAFE, "reads the reflog", _LOG + " " + _DIFF, operands="data", handler="git-reflog"),
               "update-index": _mut("--add --remove --refresh -q --ignore-submodules --unmerged "
                                    "--ignore-missing --cacheinfo=:danger --index-info:danger --chmod= "
                                    "--assume-unchanged "
                                    "--no-assume-unchanged --really-refresh --skip-worktree --no-skip-worktree "
                                    "--fsmonitor-valid --no-fsmonitor-valid -g|--again --unresolve --info-only "
                                    "--force-remove --replace --stdin --verbose --index-version= -z "
                                    "--split-index --no-split-index --untracked-cache --no-untracked-cache "
                                    "--test-untracked-cache --force-untracked-cache --fsmonitor --no-fsmonitor"),
               "format-patch": _mut("-o|--output-directory=:writedir --stdout -n|--numbered -N|--no-numbered "
                                    "--start-number= --numbered-files -k|--keep-subject -s|--signoff "
                                    "--no-signoff --cover-letter --no-cover-letter --subject-prefix= "
                                    "--rfc? -v|--reroll-count= --to= --cc= --from? --in-reply-to= --thread? "
                                    "--no-thread --suffix= -q|--quiet --base= --no-base --zero-commit "
                                    "--progress --interdiff= --range-diff= --creation-factor= --notes? "
                                    "--no-notes --signature= --no-signature --signature-file=:read "
                                    "--add-header= --attach? --inline? --no-attach --filename-max-length= "
                                    "--cover-from-description= --encode-email-headers --root " + _DIFF,
                                    handler="git-format-patch"),
               "clean": prog(DANGEROUS, "deletes untracked files",
                             "-d -f|--force -i|--interactive -n|--dry-run -q|--quiet -e|--exclude= "
                             "-x:git-clean-ignored -X:git-clean-ignored", operands="data", handler="git-clean"),
               "fetch": prog(NETWORK, "talks to a remote", None, operands="data", handler="git-remote-op"),
               "pull": prog(NETWORK, "talks to a remote", None, operands="data", handler="git-remote-op"),
               "push": prog(NETWORK, "talks to a remote", None, operands="data", handler="git-push"),
               "clone": prog(NETWORK, "copies a remote repository", None, operands="data", handler="git-clone"),
               "ls-remote": prog(NETWORK, "talks to a remote", None, operands="data", handler="git-remote-op"),
               "submodule": prog(NETWORK, "manages submodules", None, operands="data", handler="git-submodule"),
               "archive": prog(MUTATING, "writes an archive", "--format= -l|--list -v|--verbose --prefix= "
                               "-o|--output=:write --add-file=:read --add-virtual-file= --worktree-attributes "
                               "--mtime= --remote=:net --exec=:exec -0 -1 -2 -3 -4 -5 -6 -7 -8 -9",
                               operands="data", handler="git-read"),
               "bisect": prog(MUTATING, "bisects history", None, operands="data", handler="git-bisect"),
           })

# -- package managers -----------------------------------------------------------------------

PIP = prog(DANGEROUS, "manages Python packages", None, operands="data", handler="pip")
NODE_PM = prog(DANGEROUS, "manages JavaScript packages", None, operands="data", handler="node-pm")
GO = prog(DANGEROUS, "runs the Go tool", None, operands="data", handler="go")
CARGO = prog(DANGEROUS, "runs the Rust tool", None, operands="data", handler="cargo")
UV = prog(DANGEROUS, "manages Python projects", None, operands="data", handler="uv")
GEM = prog(DANGEROUS, "manages Ruby gems", None, operands="data", handler="gem")
BREW = prog(DANGEROUS, "manages Homebrew packages", None, operands="data", handler="brew")
BUILD = prog(DANGEROUS, "runs project code (build recipes, tests or scripts) the classifier cannot see", None,
             operands="data")
