#!/usr/bin/env bash
# One command on a fresh Debian machine: install the packages, build, and run every test
# (ctest). .ci/run calls this. Usage: tests/run-all.sh [extra ctest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
bash jobs/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
cd build
ctest --output-on-failure "$@"
