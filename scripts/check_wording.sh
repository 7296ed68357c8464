#!/usr/bin/env bash
# Checks that the repository speaks of the product only: no text about how its development was
# organised (work tickets, milestones, booked machines, attempts), no "targets met/missed" wording.
# Searches every tracked text file (binary files are skipped) of the git repository at DIR
# (default: this repository), prints `file:line: text` for each hit and exits 1 when there is any.
#
#   scripts/check_wording.sh [DIR]
set -euo pipefail

root=${1:-"$(dirname "$0")/.."}
cd "$root"

# Perl-compatible patterns (grep -P). "(?i)" makes one case-insensitive.
patterns=(
  # milestones: "stop 16", "stop-16's", "stops 19 and 20"
  '(?i)\bstops? ?-?\d+'
  # work tickets: "issue 7", "issue #22", "the issue's sizes", "the issue is blocked"
  # ("issue kernels", "issue order" and "issues the compute" are fine)
  '(?i)\bissues? ?#?\d+'
  "(?i)\\bissue's"
  '(?i)\b(the|this|that|whole|same|previous|next|open|each|every) issue\b(?![ -](kernels?|order|rate|time|thread|queue|step))'
  '(?i)\b(is|was|are|were) blocked on\b'
  # work sessions and how machines were obtained
  '(?i)\bsessions?\b'
  '(?i)\blent\b'
  '(?i)\bborrow'
  '(?i)\b(was|were|is|be|got|been) taken back\b'
  '(?i)\bnvidia-h[12]00(-x\d+)?\b'
  '(?i)\bdevice time\b'
  '(?i)\b(device|gpu|machine|time) budget\b|\bbudget:'
  # "carry .deps": a file copied along to a booked machine
  '(?i)\bcarr(y|ies|ied|ying)\b[^\n]{0,30}\.(deps|ref)\b'
  '(?i)\(carry\b'
  # "call" in the sense of a machine booking ("one-GPU call", "in the same call", "call 2")
  '(?i)\b(one|two|four|eight|single|multi|\d)-GPU calls?\b'
  '(?i)\bcalls? [1-9]\b'
  '(?i)\b(in|within|during|from|between|across|of) (the same|this|that|an? (earlier|later|other)) call\b(?! (to|of)\b)'
  '(?i)\b(earlier|later|previous|next|last|other|two|three|both|all) calls\b(?! (to|of)\b)'
  # progress reports instead of facts
  '(?i)\btargets? (is |are |was |were )?(not )?(met|missed|reached)\b'
  '(?i)\b(met|missed|misses|meets) (the|both|its|all) (\w+ )?targets?\b'
  # paths of the machine the work was done on
  '(?<![\w.~-])/work/'
)

# This script and its test spell the patterns out.
exclude=(scripts/check_wording.sh tests/scripts/check_wording_test.sh)

list_files() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z
  else
    find . -type f -not -path './.git/*' -not -path './build/*' -printf '%P\0'
  fi
}

files=()
while IFS= read -r -d '' file; do
  skip=false
  for excluded in "${exclude[@]}"; do [[ $file == "$excluded" ]] && skip=true; done
  $skip || [[ ! -f $file ]] || files+=("$file")
done < <(list_files)

# grep -P takes one pattern: join them as alternatives, each in its own group.
joined=$(printf '|(?:%s)' "${patterns[@]}")
joined=${joined:1}

# -I skips binary files; -H and -n give file:line. grep exits 1 when nothing matches, 2 on errors.
status=0
hits=$(grep -IHnP -- "$joined" "${files[@]}") || status=$?
if ((status > 1)); then
  echo "check_wording.sh: grep failed (exit $status)" >&2
  exit 2
fi
if [[ -n $hits ]]; then
  # file:line:text -> file:line: text
  printf '%s\n' "$hits" | sed -E 's/^([^:]*:[0-9]+):/\1: /'
  echo "check_wording.sh: $(printf '%s\n' "$hits" | wc -l) line(s) describe how the work was organised; say what the product does and what was measured instead" >&2
  exit 1
fi
echo "check_wording.sh: no hits in ${#files[@]} files"
