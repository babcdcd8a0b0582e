#!/usr/bin/env bash
# Rewrites the README's configuration table from SettingDescriptors.All (the test TheReadmeConfigurationTableIsTheDeclaredOne
# prints the same table when they differ). Needs a build of tests/Mailroom.Tests.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(dotnet test tests/Mailroom.Tests --no-build --filter "FullyQualifiedName~TheReadmeConfigurationTableIsTheDeclaredOne" 2>&1 || true)
python3 - "$out" <<'PY'
import sys
log = sys.argv[1]
if '| Option | Environment' not in log:
    print("README table already current"); sys.exit(0)
rows = []
for line in log[log.index('| Option | Environment'):].split('\n'):
    line = line.strip()
    if not line.startswith('|'):
        break
    rows.append(line)
readme = open('README.md').read()
a = readme.index('| Option | Environment')
b = readme.index('\n\n', a)
open('README.md', 'w').write(readme[:a] + '\n'.join(rows) + readme[b:])
print(f"README table rewritten ({len(rows) - 2} settings)")
PY
