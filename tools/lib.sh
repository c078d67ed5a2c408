# tools/lib.sh: shared helpers for the cabench scripts (sourced, never run).
#
# Provides: logging and fatal errors, the Debian package list and an installer,
# configure + build, and throwaway servers with a trap that stops the servers
# this script started on EXIT, INT and TERM. Sourcing has no side effects
# beyond defining variables and functions.
#
# Environment:
#   CABENCH_BUILD_DIR   build directory (default: <repo>/build)
#   CABENCH_JOBS        parallel build jobs (default: 2)
#   CI=true             configure with -DCABENCH_WERROR=ON
#   CABENCH_CACHE_URL + CABENCH_DB_URL   both set: use these servers, start none
# shellcheck shell=bash

CABENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CABENCH_BUILD_DIR=${CABENCH_BUILD_DIR:-$CABENCH_ROOT/build}
CABENCH_JOBS=${CABENCH_JOBS:-2}

# What a fresh Debian 12 machine needs to build, test, run and plot.
CABENCH_PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libbenchmark-dev libbenchmark-tools
  libgtest-dev libgmock-dev googletest
  libabsl-dev libhiredis-dev libmariadb-dev libyaml-cpp-dev
  redis-server redis-tools mariadb-server mariadb-client
  python3 python3-scipy python3-matplotlib
  clang libclang-rt-14-dev procps
  slurm-wlm munge python3-yaml
)

# The name used in messages: the script that sourced this file.
CABENCH_PROG=tools/$(basename "$0")

cabench_log() { printf '%s: %s\n' "$CABENCH_PROG" "$*" >&2; }
cabench_die() {
  printf '%s: error: %s\n' "$CABENCH_PROG" "$*" >&2
  exit 1
}
# A usage error: one clear line, a hint, exit 2.
cabench_usage_error() {
  printf '%s: %s (see %s --help)\n' "$CABENCH_PROG" "$*" "$CABENCH_PROG" >&2
  exit 2
}

_cabench_stage_start=0
_cabench_stage_name=
# Prints "== NAME" and, for the previous stage, how long it took.
cabench_stage() {
  local now
  now=$(date +%s)
  if [[ -n $_cabench_stage_name ]]; then
    printf '   (%s: %ds)\n' "$_cabench_stage_name" $((now - _cabench_stage_start)) >&2
  fi
  _cabench_stage_name=$1
  _cabench_stage_start=$now
  printf '\n== %s\n' "$1" >&2
}

# Installs the packages of CABENCH_PACKAGES that dpkg-query does not report as
# installed: apt-get as root, `sudo -n apt-get` otherwise. When neither works,
# fails with the list of packages and the command to run.
cabench_install_deps() {
  local missing=() pkg status
  for pkg in "${CABENCH_PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [[ $status == installed ]] || missing+=("$pkg")
  done
  if ((${#missing[@]} == 0)); then
    cabench_log "all ${#CABENCH_PACKAGES[@]} Debian packages are installed"
    return 0
  fi
  cabench_log "missing Debian packages: ${missing[*]}"
  local sudo=()
  if ((EUID != 0)); then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
    else
      cabench_die "cannot install ${missing[*]}: not root and no password-less sudo; run:
  sudo apt-get update && sudo apt-get install --no-install-recommends ${missing[*]}"
    fi
  fi
  local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get)
  # A fresh container has empty package lists; an old list may lack a package.
  cabench_log "running apt-get update"
  "${apt[@]}" update -qq ||
    cabench_die "apt-get update failed (is a Debian mirror reachable?)"
  cabench_log "installing: ${missing[*]}"
  "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" ||
    cabench_die "apt-get install failed for: ${missing[*]}"
}

# cabench_configure DIR [CMAKE_ARGS...]: configures DIR with Ninja;
# -DCABENCH_WERROR=ON when CI=true, unless CMAKE_ARGS say otherwise.
cabench_configure() {
  local dir=$1
  shift
  local args=(-S "$CABENCH_ROOT" -B "$dir" -G Ninja)
  if [[ ${CI:-} == true ]]; then
    args+=(-DCABENCH_WERROR=ON)
  fi
  cmake "${args[@]}" "$@" || cabench_die "cmake configure failed in $dir"
}

# cabench_build: configures and builds every target in CABENCH_BUILD_DIR (Release).
cabench_build() {
  cabench_configure "$CABENCH_BUILD_DIR" -DCMAKE_BUILD_TYPE=Release
  ninja -C "$CABENCH_BUILD_DIR" -j"$CABENCH_JOBS" ||
    cabench_die "build failed in $CABENCH_BUILD_DIR"
}

# Set when this script started the servers (so the trap stops them).
_cabench_own_servers=0
_cabench_servers_dir=

# Starts throwaway servers with tools/servers and exports their CABENCH_*
# variables, unless CABENCH_CACHE_URL and CABENCH_DB_URL are both set (then
# those servers are used and never stopped). Servers that were already running
# (an earlier `tools/servers start`) are reused and left running.
cabench_start_servers() {
  if [[ -n ${CABENCH_CACHE_URL:-} && -n ${CABENCH_DB_URL:-} ]]; then
    cabench_log "using the given servers: cache $CABENCH_CACHE_URL, db $CABENCH_DB_URL"
    return 0
  fi
  if [[ -n ${CABENCH_CACHE_URL:-} || -n ${CABENCH_DB_URL:-} ]]; then
    cabench_log "only one of CABENCH_CACHE_URL and CABENCH_DB_URL is set; starting throwaway servers for both"
  fi
  local servers=$CABENCH_ROOT/tools/servers exports reused=0
  if "$servers" status >/dev/null 2>&1; then
    reused=1
  fi
  exports=$("$servers" start) || cabench_die "tools/servers start failed"
  eval "$exports"
  export CABENCH_CACHE_URL CABENCH_DB_URL CABENCH_DB_PASSWORD_FILE CABENCH_SERVERS_DIR
  if ((reused)); then
    cabench_log "reusing servers that were already running (left running at the end)"
  else
    _cabench_own_servers=1
    _cabench_servers_dir=$CABENCH_SERVERS_DIR
  fi
}

# Stops the servers cabench_start_servers started (no-op otherwise).
cabench_stop_servers() {
  if ((_cabench_own_servers)); then
    _cabench_own_servers=0
    CABENCH_SERVERS_DIR=$_cabench_servers_dir "$CABENCH_ROOT/tools/servers" stop ||
      cabench_log "warning: stopping the servers in $_cabench_servers_dir failed"
  fi
}

_cabench_on_exit() {
  local rc=$?
  trap - EXIT INT TERM
  cabench_stop_servers
  exit "$rc"
}

# Stops servers this script started on exit, failure, Ctrl-C and SIGTERM.
cabench_install_traps() {
  trap _cabench_on_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# Fails unless the executable build/bin/NAME exists; prints its path.
cabench_bin() {
  local path=$CABENCH_BUILD_DIR/bin/$1
  [[ -x $path ]] || return 1
  printf '%s\n' "$path"
}
