#!/bin/sh
# borg-provision: build borg's one-dir binary (borg-dir/borg.exe) inside a Debian VM.
# Run by Vagrant's shell provisioner as the unprivileged "vagrant" user; apt runs through sudo.
# Inputs (environment, set by the generated Vagrantfile):
#   BORG_VERSION         borg version being built, e.g. 1.4.2
#   SDIST                path in the VM of the sdist, verified on the host before upload
#   PYTHON_SERIES        Python major.minor borg pins for this series, e.g. 3.11
#   PYINSTALLER_VERSION  PyInstaller version borg pins for this series, e.g. 6.7.0
#   FUSE_EXTRA           pip extra for borg mount (llfuse or pyfuse3)
#   FUSE_DEV_PACKAGE     Debian package that extra builds against
#   FALLBACK_SPEC        our spec file, used only if the sdist lacks scripts/borg.exe.spec
#   WITH_TESTS           1 to run borg's own test suite (slow), else 0
# Output in $HOME/borg-build/out: borg-dir.tgz, and build-info (key=value lines, incl. sha256).
# Every step prints "==> borg-provision step: <name>" so the host can show progress.
set -eu

: "${BORG_VERSION:?}" "${SDIST:?}" "${PYTHON_SERIES:?}" "${PYINSTALLER_VERSION:?}"
: "${FUSE_EXTRA:?}" "${FUSE_DEV_PACKAGE:?}" "${FALLBACK_SPEC:?}"
WITH_TESTS="${WITH_TESTS:-0}"

BUILD="$HOME/borg-build"
OUT="$BUILD/out"
VENV="$BUILD/venv"
export PYENV_ROOT="$BUILD/pyenv"
export DEBIAN_FRONTEND=noninteractive
export LANG=C.UTF-8

step() {
  echo "==> borg-provision step: $1"
}

die() {
  echo "==> borg-provision error: $1" >&2
  exit 1
}

step "packages"
sudo -E apt-get update -q
# borg's own "packages debianoid" list, plus what pyenv needs to compile Python.
sudo -E apt-get install -y -q --no-install-recommends \
  build-essential pkg-config git curl ca-certificates \
  python3-dev python3-venv \
  libssl-dev libacl1-dev liblz4-dev libzstd-dev libxxhash-dev \
  "$FUSE_DEV_PACKAGE" fuse3 \
  zlib1g-dev libbz2-dev libffi-dev liblzma-dev libreadline-dev libsqlite3-dev libncurses-dev uuid-dev

step "python"
debian_python="$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [ "$debian_python" = "$PYTHON_SERIES" ]; then
  # Debian ships the Python borg pins for this series: no need to compile one.
  PYTHON="$(command -v python3)"
else
  if [ ! -d "$PYENV_ROOT" ]; then
    git clone -q --depth 1 https://github.com/pyenv/pyenv.git "$PYENV_ROOT"
  fi
  pyenv="$PYENV_ROOT/bin/pyenv"
  version="$("$pyenv" latest -k "$PYTHON_SERIES")"
  # PyInstaller needs libpython as a shared library.
  PYTHON_CONFIGURE_OPTS=--enable-shared "$pyenv" install -s "$version"
  PYTHON="$PYENV_ROOT/versions/$version/bin/python3"
fi
"$PYTHON" -V

step "venv"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q -U pip setuptools wheel

step "unpack sdist"
rm -rf "$BUILD/src"
mkdir -p "$BUILD/src"
tar -xzf "$SDIST" -C "$BUILD/src"
SRC="$BUILD/src/borgbackup-$BORG_VERSION"
[ -d "$SRC" ] || die "the sdist has no borgbackup-$BORG_VERSION/ folder"

step "install borg"
"$VENV/bin/python" -m pip install "$SDIST"
# borg mount support; a binary without it still does everything else, so do not fail the build.
if "$VENV/bin/python" -m pip install "$FUSE_EXTRA"; then
  fuse="$FUSE_EXTRA"
else
  echo "==> borg-provision warning: $FUSE_EXTRA did not install; borg mount will not work" >&2
  fuse=none
fi

step "install pyinstaller"
"$VENV/bin/python" -m pip install "pyinstaller==$PYINSTALLER_VERSION"

step "build binary"
spec="$SRC/scripts/borg.exe.spec"
if [ ! -f "$spec" ]; then
  echo "==> borg-provision warning: the sdist has no scripts/borg.exe.spec; using borg-provision's spec" >&2
  mkdir -p "$SRC/scripts"
  cp "$FALLBACK_SPEC" "$SRC/scripts/borg-provision.spec"
  spec="$SRC/scripts/borg-provision.spec"
fi
rm -rf "$BUILD/dist"
(cd "$SRC" && "$VENV/bin/pyinstaller" --clean --noconfirm --distpath="$BUILD/dist" --workpath="$BUILD/pyi-work" "$spec")
[ -x "$BUILD/dist/borg-dir/borg.exe" ] || die "PyInstaller did not produce borg-dir/borg.exe"

step "check binary"
reported="$("$BUILD/dist/borg-dir/borg.exe" -V)"
echo "$reported"
case "$reported" in
  *" $BORG_VERSION") ;;
  *) die "borg.exe -V printed \"$reported\", expected version $BORG_VERSION" ;;
esac

if [ "$WITH_TESTS" = "1" ]; then
  step "run tests"
  # borg's own test requirements when the sdist has them (it does from 1.2 on), else the basics.
  if [ -f "$SRC/requirements.d/development.txt" ]; then
    "$VENV/bin/python" -m pip install -r "$SRC/requirements.d/development.txt"
  else
    "$VENV/bin/python" -m pip install pytest pytest-xdist pytest-benchmark
  fi
  (cd "$BUILD" && "$VENV/bin/python" -m pytest -q -n auto --pyargs borg.testsuite)
fi

step "package"
mkdir -p "$OUT"
rm -f "$OUT/borg-dir.tgz" "$OUT/borg-dir.tgz.part" "$OUT/build-info"
tar -C "$BUILD/dist" -czf "$OUT/borg-dir.tgz.part" borg-dir
mv "$OUT/borg-dir.tgz.part" "$OUT/borg-dir.tgz"
sha256="$(sha256sum "$OUT/borg-dir.tgz" | cut -d' ' -f1)"
glibc="$(getconf GNU_LIBC_VERSION | cut -d' ' -f2)"
python_version="$("$VENV/bin/python" -c 'import platform; print(platform.python_version())')"
pyinstaller_version="$("$VENV/bin/pyinstaller" --version)"
{
  echo "sha256=$sha256"
  echo "borg=$reported"
  echo "glibc=$glibc"
  echo "debian=$(cat /etc/debian_version)"
  echo "arch=$(uname -m)"
  echo "python=$python_version"
  echo "pyinstaller=$pyinstaller_version"
  echo "fuse=$fuse"
} > "$OUT/build-info.part"
mv "$OUT/build-info.part" "$OUT/build-info"
step "done"
