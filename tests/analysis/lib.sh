# Shared helpers of the analysis tests (sourced): counted checks, CSV look-ups, PNG checks.
# Every check prints "ok - ..." or "FAIL - ..."; finish prints "N passed, M failed" and sets the
# exit status.

pass=0
fail=0

check() { # DESCRIPTION COMMAND...: passes when the command succeeds
  local what=$1
  shift
  if "$@" >/dev/null 2>&1; then
    pass=$((pass + 1))
    echo "ok - $what"
  else
    fail=$((fail + 1))
    echo "FAIL - $what"
  fi
}

finish() {
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}

# csv FILE 'col=value[,col=value]' COLUMN: the COLUMN field of the first row matching every
# col=value. Fields are RFC 4180 (quoted when they hold a comma or quote); plain awk, no gawk.
csv() {
  awk -v where="$2" -v want="$3" '
    function split_csv(line, f,    n, i, c, q, cur) {
      n = 0; cur = ""; q = 0
      for (i = 1; i <= length(line); i++) {
        c = substr(line, i, 1)
        if (q) {
          if (c == "\"") { if (substr(line, i + 1, 1) == "\"") { cur = cur c; i++ } else q = 0 }
          else cur = cur c
        } else if (c == "\"") q = 1
        else if (c == ",") { f[++n] = cur; cur = "" }
        else cur = cur c
      }
      f[++n] = cur
      return n
    }
    NR == 1 { m = split_csv($0, h); for (i = 1; i <= m; i++) col[h[i]] = i; n = split(where, cond, ","); next }
    {
      split_csv($0, f)
      hit = 1
      for (k = 1; k <= n; k++) { split(cond[k], kv, "="); if (f[col[kv[1]]] != kv[2]) hit = 0 }
      if (hit) { print f[col[want]]; exit }
    }' "$1"
}

# near A B: equal to 1e-9 relative
near() {
  awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; m = (a < 0 ? -a : a); exit !(a != "" && d <= 1e-9 * m + 1e-12) }'
}

# is_png FILE: the 8-byte PNG signature and more than 1000 bytes
is_png() {
  [ -f "$1" ] && [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] &&
    [ "$(stat -c %s "$1")" -gt 1000 ]
}

# checker_counts OUTPUT: adds the "N passed, M failed" of a C checker's output to ours
checker_counts() {
  local last
  last=$(printf '%s\n' "$1" | tail -n 1)
  if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    pass=$((pass + BASH_REMATCH[1]))
    fail=$((fail + BASH_REMATCH[2]))
    printf '%s\n' "$1" | grep '^FAIL' | head -n 40
    echo "checker: $last"
  else
    fail=$((fail + 1))
    echo "FAIL - checker printed no summary: $last"
  fi
}
