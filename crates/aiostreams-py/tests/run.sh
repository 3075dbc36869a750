#!/usr/bin/env bash
# The Python package's tests (the second half of the README's test command): maturin builds
# one abi3 wheel, pip installs it with uvloop into a venv per Python found here (3.11, and
# 3.13 and 3.9 under pyenv when present), and tests/run.py runs every Python test on both loops,
# CPython's own test_streams included. Run from anywhere; needs cargo and python3.
set -euo pipefail
cd "$(dirname "$0")/../../.."

pythons=(python3)
# 3.9 is the oldest CPython the abi3 wheel promises (its test_streams passes loop=).
for extra in 3.13.0/bin/python3.13 3.9.18/bin/python3.9; do
    [ -x "$HOME/.pyenv/versions/$extra" ] && pythons+=("$HOME/.pyenv/versions/$extra")
done
if ! python3 -c "import ensurepip" 2>/dev/null; then
    apt-get update -q
    apt-get install -y -q --no-install-recommends python3-venv
fi
pyci=target/python-ci
rm -rf "$pyci"
python3 -m venv "$pyci/build"
"$pyci/build/bin/pip" install -q --disable-pip-version-check maturin
# A debug build is enough for the tests (and shares the workspace's compiled deps).
"$pyci/build/bin/maturin" build --locked -q -m crates/aiostreams-py/Cargo.toml -o "$pyci/wheels"
for py in "${pythons[@]}"; do
    version=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    "$py" -m venv "$pyci/venv$version"
    "$pyci/venv$version/bin/pip" install -q --disable-pip-version-check uvloop "$pyci"/wheels/*.whl
    "$pyci/venv$version/bin/python" crates/aiostreams-py/tests/run.py
done
