#!/usr/bin/env bash
# Every C source and header follows .clang-format (clang-format 14, as
# Debian 12 ships it): a file that does not is reported with the diff that
# would fix it (`clang-format -i FILE`).
set -euo pipefail
mapfile -t files < <(find include src tests examples -name '*.[ch]' | sort)
bad=0
for f in "${files[@]}"; do
    if ! clang-format --dry-run --Werror "$f" 2>/dev/null; then
        echo "not formatted: $f"
        clang-format "$f" | diff -u "$f" - || true
        bad=1
    fi
done
echo "clang-format: ${#files[@]} files checked"
exit $bad
