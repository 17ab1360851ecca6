#!/usr/bin/env bash
# The whole test suite on a fresh machine, run against what a user installs:
#   1. Rust: cargo fmt, clippy, test (debug build: overflow checks on), doc;
#   2. the release wheel, built once with maturin (manylinux2014, linked through zig against
#      an old glibc; maturin's auditwheel check must pass), in a build virtualenv;
#   3. a FRESH virtualenv ($FERROTUNE_TEST_VENV, default .venv-test) with that wheel and its
#      `test` extra: ruff, mypy, stubtest of the installed extension, the installed
#      `ferrotune demo`, and pytest against the installed package (never python/).
# Extra arguments go to pytest. Every cargo step and maturin share one target directory.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
BUILD_VENV=${FERROTUNE_BUILD_VENV:-.venv-build}
VENV=${FERROTUNE_TEST_VENV:-.venv-test}
WHEEL_DIR=${CARGO_TARGET_DIR:-target}/ci-wheels
# manylinux2014 (glibc 2.17) needs zig as the linker: this machine's own glibc would
# give a wheel for recent systems only.
WHEEL_COMPAT=manylinux2014

stage() {
    echo "== [${SECONDS}s] $*"
}

fail() {
    echo "error: $*" >&2
    exit 1
}

stage "checking the tools"
command -v cargo >/dev/null 2>&1 || fail "cargo not found: install a Rust toolchain (rustup)"
for pair in fmt:rustfmt clippy:clippy; do
    if ! cargo "${pair%:*}" --version >/dev/null 2>&1; then
        command -v rustup >/dev/null 2>&1 || fail "cargo ${pair%:*} is missing, and no rustup to add it"
        rustup component add "${pair#*:}"
    fi
done
"$PYTHON" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))' \
    || fail "$PYTHON must be Python >= 3.10 with venv and ensurepip (Debian: apt-get install python3-venv)"

stage "cargo fmt, clippy, test, doc"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test -p ferrotune-core
RUSTDOCFLAGS="-D warnings" cargo doc -p ferrotune-core --no-deps

stage "building the release wheel ($WHEEL_COMPAT)"
if ! "$BUILD_VENV/bin/python" -c '' >/dev/null 2>&1; then
    "$PYTHON" -m venv --clear "$BUILD_VENV"
fi
"$BUILD_VENV/bin/python" -m pip install -q --upgrade pip
"$BUILD_VENV/bin/python" -m pip install -q "maturin[zig]>=1.9.4,<2" "ziglang>=0.13,<0.18"
# An extension left in the source tree by an earlier `maturin develop` is stale: it must
# neither reach the wheel nor be what a test loads.
find python/ferrotune \( -name '*.so' -o -name '*.pyd' \) -print -delete \
    | sed 's/^/removed stale extension (run `maturin develop` again for an editable install): /'
rm -rf "$WHEEL_DIR"
# maturin finds zig through the build virtualenv's python.
PATH="$PWD/$BUILD_VENV/bin:$PATH" "$BUILD_VENV/bin/maturin" build --release --zig \
    --compatibility "$WHEEL_COMPAT" --auditwheel check --out "$WHEEL_DIR"
wheels=("$WHEEL_DIR"/*.whl)
[ "${#wheels[@]}" -eq 1 ] && [ -f "${wheels[0]}" ] || fail "expected one wheel in $WHEEL_DIR, found: ${wheels[*]}"
wheel=${wheels[0]}
case "$(basename "$wheel")" in
*-abi3-"$WHEEL_COMPAT"_*) ;;
*) fail "$(basename "$wheel") does not carry the $WHEEL_COMPAT tag" ;;
esac
"$BUILD_VENV/bin/python" - "$wheel" <<'EOF'
import sys
import zipfile

names = zipfile.ZipFile(sys.argv[1]).namelist()
ext = [n for n in names if n.endswith((".so", ".pyd"))]
if ext != ["ferrotune/_core.abi3.so"]:
    sys.exit(f"error: the wheel should hold one extension, ferrotune/_core.abi3.so: {ext}")
if not any(n.endswith(".dist-info/licenses/LICENSE") for n in names):
    sys.exit("error: the wheel does not carry the LICENSE file")
EOF
echo "built $(basename "$wheel")"

stage "installing the wheel with its test extra into a fresh $VENV"
"$PYTHON" -m venv --clear "$VENV"
# shellcheck disable=SC1091
. "$VENV/bin/activate"
python -m pip install -q --upgrade pip
python -m pip install -q "$wheel[test]"
# tests/conftest.py stops the run unless ferrotune and its extension come from site-packages.
export FERROTUNE_TEST_WHEEL=1

stage "ruff, mypy, stubtest"
ruff check python tests benches examples
ruff format --check python tests benches examples
# mypy checks the package's source (mypy_path = python); stubtest compares the installed
# _core.pyi with the installed extension.
mypy
python -m mypy.stubtest ferrotune._core

stage "the installed command: ferrotune demo"
"$VENV/bin/ferrotune" demo >/dev/null

stage "pytest"
# The PostgreSQL storage tests need a server: start a throwaway one from Debian's
# packages unless FERROTUNE_TEST_POSTGRES_URL already names one.
if [ -z "${FERROTUNE_TEST_POSTGRES_URL:-}" ]; then
    # Stopped on exit even when starting it failed half-way.
    trap 'bash scripts/postgres.sh stop || true' EXIT
    if command -v apt-get >/dev/null 2>&1 && url=$(bash scripts/postgres.sh start | tail -n 1) \
        && [ -n "$url" ]; then
        export FERROTUNE_TEST_POSTGRES_URL="$url"
    elif [ -n "${FERROTUNE_REQUIRE_POSTGRES:-}" ]; then
        fail "could not start PostgreSQL, and FERROTUNE_REQUIRE_POSTGRES is set"
    else
        echo "could not start PostgreSQL: its storage tests are skipped"
    fi
fi
# The dashboard's browser test needs Chromium and its driver: install Debian's packages
# when missing (the test skips without them unless FERROTUNE_REQUIRE_BROWSER is set).
if ! { command -v chromium && command -v chromedriver; } >/dev/null 2>&1 \
    && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium and chromium-driver from Debian's packages"
    { DEBIAN_FRONTEND=noninteractive apt-get update -qq \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; } \
        >/dev/null || echo "could not install chromium: the dashboard's browser test will not run"
fi
bash scripts/pytest.sh "$@"
echo "== all passed in ${SECONDS}s ($(basename "$wheel"))"
