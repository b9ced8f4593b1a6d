#!/usr/bin/env bash
# Assembles each fuzzer's seed corpus under OUT/seeds/<target>/ from the hand-made seeds in
# fuzz/seeds/ and the shared test data (../shared/testdata, read in place: it is never copied
# into the repository, only into the build tree). Rerunning refreshes the seeds.
#
#   fuzz/make_seeds.sh SOURCE_DIR OUT_DIR
set -euo pipefail
src=${1:?source dir}
out=${2:?output dir}
testdata=${CRUD_TESTDATA:-$src/../shared/testdata}

targets=(apigw_event item_input cursor jwt request_target dynamodb_response shared_config
         runtime_headers)
for t in "${targets[@]}"; do
  rm -rf "$out/seeds/$t"
  mkdir -p "$out/seeds/$t" "$out/corpus/$t"
  if [[ -d "$src/fuzz/seeds/$t" ]]; then
    cp "$src/fuzz/seeds/$t"/* "$out/seeds/$t/"
  fi
done

if [[ -d "$testdata" ]]; then
  # The API Gateway sample events, as they are.
  for f in "$testdata"/apigw-events/*.json; do
    [[ -f $f ]] && cp "$f" "$out/seeds/apigw_event/"
  done
  # JSON texts, valid and not, for the item bodies and the JWT claims; the valid ones also as
  # DynamoDB answers ('0': GetItem, 200).
  for f in "$testdata"/json-test-suite/[yni]_*.json; do
    [[ -f $f ]] || continue
    base=$(basename "$f")
    cp "$f" "$out/seeds/item_input/$base"
    if [[ $base == y_* ]]; then
      cp "$f" "$out/seeds/jwt/$base"
      { printf 0; cat "$f"; } >"$out/seeds/dynamodb_response/$base"
    fi
  done
  # The SigV4 suite's raw requests: request lines with odd targets and queries, and headers.
  for d in "$testdata"/sigv4-test-suite/*/; do
    name=$(basename "$d")
    req="$d/request.txt"
    [[ -f $req ]] || continue
    head -n1 "$req" | awk '{print $2}' | tr -d '\n' >"$out/seeds/request_target/sigv4-$name"
    tail -n +2 "$req" >"$out/seeds/runtime_headers/sigv4-$name"
  done
else
  echo "make_seeds: $testdata not found; using fuzz/seeds only" >&2
fi

for t in "${targets[@]}"; do
  printf '%s: %s seeds\n' "$t" "$(find "$out/seeds/$t" -type f | wc -l)"
done
