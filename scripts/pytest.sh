#!/usr/bin/env bash
# pytest as the test script runs it, with the `python` first on PATH (the activated
# virtualenv): extra arguments go to pytest. Fails when pytest collects no tests, which
# pytest reports as exit code 5: a run that tests nothing must not pass.
set -uo pipefail
cd "$(dirname "$0")/.."

python -m pytest -q -p no:cacheprovider "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
    echo "error: pytest collected no tests (exit code 5); check the paths and the -k/-m arguments" >&2
fi
exit "$rc"
