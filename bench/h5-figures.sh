# Figures read from a results file with h5dump, shared by the benchmark scripts (sourced).

# median_iteration_seconds H5: the median of /epochs/t_epoch over iterations 2.. (the first
# iteration alone when only one ran; it also holds start-up work)
median_iteration_seconds() {
  local t
  t=$(h5dump -y -w 0 -d /epochs/t_epoch "$1" | sed -n '/DATA {/,/}/p' | grep -o '[0-9][0-9.e+-]*')
  [ "$(wc -l <<<"$t")" -gt 1 ] && t=$(sed 1d <<<"$t")
  sort -g <<<"$t" | awk '{ v[NR] = $1 } END { if (!NR) { print "nan"; exit }
    print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# counted_flops H5: the last iteration's /epochs/phase_flops (busiest rank) summed over every
# phase but eval and io
counted_flops() {
  local names
  names=$(h5dump -a /epochs/phase_flops/phase_names "$1" | sed -n '/DATA {/,/}/p' | grep -o '"[a-z_0-9]*"' | tr -d '"' |
    tr '\n' ' ')
  h5dump -y -w 0 -d /epochs/phase_flops "$1" | sed -n '/DATA {/,/}/p' | grep '[0-9]' | tail -n 1 |
    awk -v names="$names" '{ np = split(names, nm, " "); gsub(/,/, " "); f = 0
      for (i = 1; i <= NF && i <= np; i++) if (nm[i] != "eval" && nm[i] != "io") f += $i
      printf "%.6e", f }'
}
