#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image. Base image:
# Ubuntu 22.04 (choose it in the assignment's autograder settings). It installs Python 3.11,
# the grader and its pinned dependencies into /autograder/venv, the bubblewrap sandbox, and
# the unprivileged user that grading runs as. Any failing step fails the build, so a broken
# image shows up here, not at the first submission. docs/gradescope.md explains each choice.
set -euxo pipefail
export DEBIAN_FRONTEND=noninteractive
SOURCE=/autograder/source
VENV=/autograder/venv

apt-get update
# Python 3.11: Ubuntu 22.04's own package (universe, jammy-updates), from the image's usual
# mirrors; the deadsnakes PPA only when that package is not there.
if ! apt-get install -y --no-install-recommends python3.11 python3.11-venv; then
    apt-get install -y --no-install-recommends software-properties-common
    add-apt-repository -y ppa:deadsnakes/ppa
    apt-get update
    apt-get install -y --no-install-recommends python3.11 python3.11-venv
fi
# The workers' sandbox. Where the container cannot start it, `grade --sandbox auto` runs the
# workers without it and says so in the results (extra_data.sandbox).
apt-get install -y --no-install-recommends bubblewrap || echo "setup.sh: no bubblewrap package"

python3.11 -m venv "$VENV"
"$VENV/bin/python" -m pip install --upgrade pip
# Every dependency but torch from PyPI, each pinned to the version the release was built with.
"$VENV/bin/python" -m pip install --requirement "$SOURCE/requirements-gradescope.txt"
# torch: the CPU build from PyTorch's own index (PyPI's Linux wheel pulls in CUDA, gigabytes).
"$VENV/bin/python" -m pip install --no-deps --index-url https://download.pytorch.org/whl/cpu \
    "torch==@TORCH_VERSION@"
"$VENV/bin/python" -m pip check
# The grader itself: this folder on the venv's path (one copy, no build step, and none of
# the notebook-only dependencies pyproject.toml also lists).
SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$SOURCE" > "$SITE/why-transformers-grader.pth"

# Grading runs as this user: submission code can then write neither /autograder/results
# nor the grader. It only needs to read the grader and the venv.
id -u @GRADING_USER@ >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin @GRADING_USER@
chmod a+rx /autograder
chmod -R a+rX "$SOURCE" "$VENV"

# Smoke test: grade an empty submission (every check fails, nothing crashes).
SMOKE="$(mktemp -d)"
"$VENV/bin/python" -c "import numpy, matplotlib, pytest, pytest_timeout, torch; print(torch.__version__)"
(cd "$SOURCE" && "$VENV/bin/python" -m autograder grade --submission "$SMOKE" --only medium \
    --device cpu --results "$SMOKE/results.json" --quiet)
rm -rf "$SMOKE"
