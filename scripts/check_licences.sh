#!/usr/bin/env bash
# The licence gate (CI runs it before the tests): lists every third-party dependency of the reactor with
# its licences (license-maven-plugin's aggregate-add-third-party, configured in the parent pom) and fails
#  - when a dependency has no licence in its pom and none in src/license/THIRD-PARTY.properties,
#  - when none of a dependency's licences is allowed (Apache-2.0, MIT, BSD-2/3-Clause, EPL-2.0: GPL, AGPL,
#    LGPL-only and unknown licence names fail),
#  - when the committed THIRD-PARTY.txt differs from the list just generated (dependencies changed).
# Extra arguments go to Maven (e.g. -o).
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B org.codehaus.mojo:license-maven-plugin:aggregate-add-third-party "$@"
generated=target/generated-sources/license/THIRD-PARTY.txt
if ! cmp -s "$generated" THIRD-PARTY.txt; then
  diff -u THIRD-PARTY.txt "$generated" || true
  echo "licences: THIRD-PARTY.txt is out of date; after checking the change above: cp $generated THIRD-PARTY.txt" >&2
  exit 1
fi
echo "licences: $(grep -c '^     (' THIRD-PARTY.txt) third-party dependencies, every one under an allowed licence"
