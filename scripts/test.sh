#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what it needs into a virtualenv,
# then runs Rust lints and tests, builds the extension, Python lints, and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${FERROTUNE_TEST_VENV:-.venv-test}
PYTHON=${PYTHON:-python3}

echo "== setting up $VENV"
"$PYTHON" -m venv "$VENV"
# shellcheck disable=SC1091
. "$VENV/bin/activate"
python -m pip install -q --upgrade pip
python -m pip install -q "maturin>=1.9.4,<2"

echo "== cargo fmt, clippy, test, doc"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test -p ferrotune-core
RUSTDOCFLAGS="-D warnings" cargo doc -p ferrotune-core --no-deps

echo "== building the extension and installing the test extras"
maturin develop --release --extras test

echo "== ruff, mypy"
ruff check python tests benches examples
ruff format --check python tests benches examples
mypy
python -m mypy.stubtest ferrotune._core

echo "== pytest"
# The PostgreSQL storage tests need a server: start a throwaway one from Debian's
# packages unless FERROTUNE_TEST_POSTGRES_URL already names one.
if [ -z "${FERROTUNE_TEST_POSTGRES_URL:-}" ] && command -v apt-get >/dev/null 2>&1; then
    if url=$(bash scripts/postgres.sh start | tail -n 1) && [ -n "$url" ]; then
        export FERROTUNE_TEST_POSTGRES_URL="$url"
        trap 'bash scripts/postgres.sh stop || true' EXIT
    elif [ -n "${FERROTUNE_REQUIRE_POSTGRES:-}" ]; then
        echo "could not start PostgreSQL, and FERROTUNE_REQUIRE_POSTGRES is set" >&2
        exit 1
    else
        echo "could not start PostgreSQL: its storage tests are skipped"
    fi
fi
set +e
python -m pytest -q -p no:cacheprovider "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
    echo "pytest collected no tests"
    exit 0
fi
exit "$rc"
