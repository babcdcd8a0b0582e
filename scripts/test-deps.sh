#!/usr/bin/env bash
# Installs what the test suite uses beyond the .NET SDK, when it is missing: Debian packages (python3-dkim for the
# independent DKIM verifier, swaks and its STARTTLS module for SMTP tests, Node.js and npm for Postmark's official
# client, PostgreSQL for the PostgreSQL run) and the Node client itself (npm ci in tests/node). Run by ./test.sh and
# .ci/run. Without root (or sudo) it only says what is missing; the tests that need it then fail saying so.
set -uo pipefail
cd "$(dirname "$0")/.."
need=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql)
/usr/bin/python3 -c 'import dkim' 2>/dev/null || need+=(python3-dkim)
command -v swaks >/dev/null || need+=(swaks)
perl -MNet::SSLeay -e1 2>/dev/null || need+=(libnet-ssleay-perl)
command -v node >/dev/null || need+=(nodejs npm)
[ -x /usr/bin/chromium ] || need+=(chromium)   # the web app's Playwright tests (tests/Mailroom.Web.Tests) drive Debian's Chromium
[ -x /usr/sbin/spamd ] || need+=(spamassassin spamd)   # inbound spam scoring tests (InboundSpamTests) run a real spamd (Debian 12 ships it apart, in spamd)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || { command -v sudo >/dev/null && sudo -n true 2>/dev/null && sudo="sudo -n"; }
  if [ "$(id -u)" -eq 0 ] || [ -n "$sudo" ]; then
    echo "test-deps: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null && $sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
      || echo "test-deps: warning: apt-get install failed for ${need[*]}" >&2
  else
    echo "test-deps: warning: missing ${need[*]} and no root to install them (apt-get install ${need[*]}); the tests that use them will fail" >&2
  fi
fi
# npm ci when node_modules is missing or lacks a package added since (axe-core, for the web app's accessibility checks).
if [ -f tests/node/package.json ] && { [ ! -d tests/node/node_modules ] || [ ! -d tests/node/node_modules/axe-core ]; } && command -v npm >/dev/null; then
  (cd tests/node && npm ci --no-audit --no-fund --loglevel=error) || echo "test-deps: warning: npm ci failed; Node client tests will fail" >&2
fi
exit 0
