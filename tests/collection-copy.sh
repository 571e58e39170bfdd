#!/usr/bin/env bash
# Copies the checkout (tracked and untracked-but-not-ignored files, as they are in the
# work tree) to build/ansible_collections/storeops/shop, the path ansible-test needs,
# and prints that path. Stale files there are removed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# Outside this git work tree: inside it, ansible-test would list files with git and find
# the copy ignored (build/ is in .gitignore), skipping every target.
default_build_root=/tmp/storeops-shop-test-$(printf '%s' "$root" | sha256sum | cut -c1-12)
dest="${COLLECTION_BUILD_ROOT:-$default_build_root}/ansible_collections/storeops/shop"
mkdir -p "$dest"
cd "$root"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
  | rsync -a --delete --delete-excluded --from0 --files-from=- ./ "$dest/"
# rsync --files-from does not delete files that left the list: prune them.
( cd "$dest" && find . -type f ! -path './tests/output/*' -printf '%P\0' ) | while IFS= read -r -d '' f; do
  [ -e "$root/$f" ] || rm -f "$dest/$f"
done
echo "$dest"
