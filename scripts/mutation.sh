#!/usr/bin/env bash
# Mutation check: gremlins v0.6.0 mutates every library package (builder, build,
# cwlpatch, skaffold, cwltest, release/*, check, internal/*, but not the test helpers internal/testenv
# and internal/synth) and runs, for each mutant, the fast tier of the
# mutated package's own tests (GOFLAGS=-short). It prints one line per
# package: mutants that compiled and were covered, killed, equivalent (the
# lived mutants scripts/mutation-equivalent.txt lists, each with the reason
# no test can tell them apart), survived, and the efficacy without the
# equivalent ones, and the mutants on lines the package's own fast tests
# never run (left to the CLI and engine tests). Every survivor is printed
# after the table.
#
#   scripts/mutation.sh [PACKAGE_DIR...]     # default: every library package
#
# Not part of CI: it compiles and tests every mutant (about half an hour on
# two cores).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v gremlins >/dev/null || go install github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0
PATH=$(go env GOPATH)/bin:$PATH
out=${MUTATION_OUT:-$(mktemp -d)}
mkdir -p "$out"
dirs=("$@")
[ ${#dirs[@]} -gt 0 ] || dirs=(builder build cwlpatch skaffold cwltest release check internal)
for d in "${dirs[@]}"; do
  # MUTATION_REUSE=1 MUTATION_OUT=DIR tabulates an earlier run's results
  # again (after editing the list of equivalent mutants, say).
  if [ -n "${MUTATION_REUSE:-}" ] && [ -f "$out/${d//\//_}.json" ]; then continue; fi
  echo "mutation: $d" >&2
  GOFLAGS=-short gremlins unleash --workers "${MUTATION_WORKERS:-2}" --timeout-coefficient 5 \
    -E 'internal/testenv/' -E 'internal/synth/' -E '_test\.go$' \
    -o "$out/${d//\//_}.json" "./$d" >"$out/${d//\//_}.log" 2>&1 ||
    { echo "gremlins failed on $d; see $out/${d//\//_}.log" >&2; exit 1; }
done
python3 - "$out" "${dirs[@]}" <<'PY'
import json, os, sys
out, dirs = sys.argv[1], sys.argv[2:]
equivalent = {}
for line in open("scripts/mutation-equivalent.txt"):
    line = line.strip()
    if line and not line.startswith("#"):
        key, _, reason = line.partition(" ")
        equivalent[key] = reason
rows, survivors = {}, []
for d in dirs:
    data = json.load(open(os.path.join(out, d.replace("/", "_") + ".json")))
    for f in data["files"]:
        path = os.path.normpath(os.path.join(d, f["file_name"]))
        if "/testenv/" in path or "/synth/" in path or path.endswith("_test.go"):
            continue
        pkg = os.path.dirname(path)
        r = rows.setdefault(pkg, {"mutants": 0, "killed": 0, "equivalent": 0, "survived": 0, "uncovered": 0})
        for m in f["mutations"]:
            if m["status"] == "NOT COVERED":
                r["uncovered"] += 1
            if m["status"] in ("NOT COVERED", "NOT VIABLE", "SKIPPED"):
                continue
            r["mutants"] += 1
            key = "%s:%d:%d:%s" % (path, m["line"], m["column"], m["type"])
            if m["status"] in ("KILLED", "TIMED OUT"):
                r["killed"] += 1
            elif key in equivalent:
                r["equivalent"] += 1
            else:
                r["survived"] += 1
                survivors.append(key)
print("| package | mutants | killed | equivalent | survived | efficacy | not covered |")
print("|---|---|---|---|---|---|---|")
low = False
for pkg in sorted(rows):
    r = rows[pkg]
    real = r["mutants"] - r["equivalent"]
    eff = 100.0 * r["killed"] / real if real else 100.0
    low |= eff < 90
    print("| `%s` | %d | %d | %d | %d | %.1f%% | %d |" % (pkg, r["mutants"], r["killed"], r["equivalent"], r["survived"], eff, r["uncovered"]))
for s in survivors:
    print("survived:", s)
sys.exit(1 if low else 0)
PY
