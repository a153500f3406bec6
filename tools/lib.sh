# Shared set-up for tools/example.sh and tools/test.sh (sourced, not run).
# Works on a fresh Debian 12, whose python3 is "externally managed" (PEP 668): everything Python goes
# into a project virtual environment, .venv/, and Debian packages come from apt.

SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
APT_UPDATED=""

# apt_need PACKAGE...: install the Debian packages that are not installed yet.
apt_need() {
  local missing="" package
  for package in "$@"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing="$missing $package"
  done
  [ -n "$missing" ] || return 0
  if [ -z "$APT_UPDATED" ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# venv_ready EXTRAS: create .venv (installing python3-venv when Debian's python3 lacks it) and
# install infopack into it, editable, with the given extras ("" or "[test]").
venv_ready() {
  local extras="$1"
  if [ ! -x .venv/bin/python ]; then
    if ! python3 -m venv .venv >/dev/null 2>&1; then
      rm -rf .venv
      apt_need python3-venv
      python3 -m venv .venv
    fi
    .venv/bin/python -m pip install -q --upgrade pip
  fi
  .venv/bin/python -m pip install -q -e ".$extras"
}
