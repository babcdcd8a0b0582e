#!/usr/bin/env bash
# Adds a migration with the same name to both providers' folders: scripts/new-migration.sh NAME
# (No --namespace: EF derives Mailroom.Core.Storage.Migrations.<Provider> from the folder, and with --namespace it
# writes the model snapshot to a folder named after the namespace instead of beside the migration.)
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: scripts/new-migration.sh NAME}
dotnet tool restore >/dev/null
for ctx in Sqlite Postgres; do
  dotnet ef migrations add "$name" --project src/Mailroom.Core --startup-project src/Mailroom.Core \
    --context "${ctx}MailroomDb" --output-dir "Storage/Migrations/$ctx"
done
