#!/usr/bin/env bash
# The Open MPI tests (docs/DISTRIBUTED.md), run by scripts/test.sh when `mpirun` exists and the
# debug `tessera` was built with the distributed layer (libopenmpi-dev present at build time):
#  1. gram j = 1, 2 and lstsq j = 0, 1, every method (paper, pcg, direct, cholesky), lstsq with a
#     3-column b, the float32 Gram route (--precision mixed), and
#     attention pcg (K stored and on the fly), paper and direct, on 1, 2 and 4 ranks: x is
#     byte-for-byte the single-process x, with the same exit status; the preconditioner's
#     randomly pivoted Cholesky runs each rank's share of the row blocks only;
#  2. a NaN in the last rank's rows (found only by that rank's reduction): every rank exits 2,
#     exactly one `tessera: error:` line, no x written;
#  3. ranks started with different --threads (which change the plan): exit 2, one message;
#  4. a rank killed with SIGKILL (test hook TESSERA_TEST_KILL_RANK): the run ends (no hang) with
#     a non-zero status, no x written.
# Ranks are oversubscribed (`--oversubscribe`; CI has 2 cores) and may run as root
# (`--allow-run-as-root`). About a minute on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
tessera="$PWD/.build/debug/tessera"
if ! command -v mpirun >/dev/null; then
    echo "test-mpi: mpirun not found, skipped (scripts/install-deps.sh installs Open MPI)"; exit 0
fi
[ -x "$tessera" ] || swift build --product tessera
if ! ldd "$tessera" | grep -q libmpi; then
    echo "test-mpi: $tessera was built without Open MPI (no mpi.h at build time), skipped"; exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
mpi() { local p="$1"; shift; timeout 120 mpirun --allow-run-as-root --oversubscribe -np "$p" "$tessera" "$@"; }
failures=0
fail() { echo "test-mpi: FAIL: $*"; failures=$((failures + 1)); }

"$tessera" generate gram --rows 12000 --cols 12 --condition 1e3 --power 1 --output-dir g1 >/dev/null
"$tessera" generate gram --rows 12000 --cols 12 --condition 1e2 --power 2 --output-dir g2 >/dev/null
"$tessera" generate lstsq --rows 12000 --cols 12 --condition 1e3 --power 0 --output-dir l0 >/dev/null
"$tessera" generate lstsq --rows 12000 --cols 12 --condition 1e2 --power 1 --output-dir l1 >/dev/null

# compare LABEL ARGS...: the single-process x of `tessera ARGS` against 1, 2 and 4 ranks (one
# thread each): the same exit status and x byte for byte.
runs=0
compare_ranks="1 2 4"
compare() {
    local label="$1"; shift
    local want got p
    set +e; "$tessera" "$@" --output ref.npy; want=$?; set -e
    [ -f ref.npy ] || { fail "$label: the single-process solve wrote no x (exit $want)"; return; }
    for p in $compare_ranks; do
        rm -f "x$p.npy"
        set +e; mpi "$p" "$@" --threads 1 --output "x$p.npy" 2>mpi-err.txt; got=$?; set -e
        runs=$((runs + 1))
        [ "$got" = "$want" ] || fail "$label, $p ranks: exit $got, single process $want: $(cat mpi-err.txt)"
        cmp -s ref.npy "x$p.npy" || fail "$label, $p ranks: x differs from the single-process x"
    done
    rm -f ref.npy
}

for case in "gram 1 g1" "gram 2 g2" "lstsq 0 l0" "lstsq 1 l1"; do
    read -r problem power dir <<<"$case"
    for method in paper pcg direct cholesky; do
        compare "$case $method" solve "$problem" --matrix "$dir/A.npy" --rhs "$dir/b.npy" --power "$power" \
            --method "$method" --max-iterations 30 --quiet
    done
done
# Several right-hand sides (lstsq: the block route of cholesky/direct, column by column for pcg)
# and the float32 Gram route (--precision mixed), d = 48.
python3 - <<'PYTHON'
import numpy as np
b = np.load("l1/b.npy"); np.save("l1/B.npy", np.stack([b, 2 * b + 1, b[::-1].copy()], axis=1))
PYTHON
"$tessera" generate lstsq --rows 12000 --cols 48 --condition 1e2 --power 1 --output-dir m1 >/dev/null
for method in cholesky direct pcg; do
    compare "lstsq 1 l1 B $method" solve lstsq --matrix l1/A.npy --rhs l1/B.npy --power 1 --method "$method" --max-iterations 30 --quiet
done
for case in "gram 2" "lstsq 0" "lstsq 1"; do
    read -r problem power <<<"$case"
    rhs=m1/b.npy
    [ "$problem" = gram ] && python3 -c "import numpy as np; np.save('m1/bd.npy', np.ones(48))" && rhs=m1/bd.npy
    compare "$case mixed" solve "$problem" --matrix m1/A.npy --rhs "$rhs" --power "$power" --precision mixed --max-iterations 30 --quiet
done
echo "test-mpi: $runs distributed solves compared byte for byte with the single-process x"
# lstsq's n-vectors stay distributed by rows: no exchange of an LSQR solve on 2 ranks receives
# anything near a half n-vector (6,000 rows, 48,000 bytes); the largest is a group reduction.
TESSERA_MPI_STATS=1 mpi 2 solve lstsq --matrix l1/A.npy --rhs l1/b.npy --power 1 --method pcg --max-iterations 30 \
    --threads 1 --quiet --output xl.npy 2>stats.txt || true
largest="$(sed -n 's/.*largest exchange \([0-9]*\)).*/\1/p' stats.txt)"
[ -n "$largest" ] && [ "$largest" -lt 24000 ] || fail "lstsq on 2 ranks: an exchange received ${largest:-?} bytes (n-vector rows gathered?): $(cat stats.txt)"

# attention: the kernel product's tile pairs (K on the fly, 5 tiles: 15 pairs) or stored blocks
# (2 block rows: 3 pairs; on 4 ranks two own no block row) are divided among the ranks; 25
# iterations at most (the bits, not convergence, are compared; the exit status must match too).
"$tessera" generate attention --rows 2500 --cols 16 --row-norm 0.9 --ridge 1e-3 --output-dir att >/dev/null
runs=0
for case in "pcg --memory-budget 1G" "pcg --memory-budget 40M" "paper --memory-budget 1G" "direct --memory-budget 1G"; do
    read -r method budget size <<<"$case"
    compare "attention $case" solve attention --matrix att/A.npy --rhs att/b.npy --ridge 1e-3 --method "$method" \
        "$budget" "$size" --tile-rows 512 --max-iterations 25 --quiet
done
# The preconditioner's randomly pivoted Cholesky divides its row blocks (2,048 rows) among the
# ranks: 9,000 rows are 5 blocks (ranks 0–2 of 4 hold one, rank 3 two), in tiles of 1,000 rows
# and of 1,001 (share edges inside tiles, off OpenBLAS's 8-row groups), and the same x comes out.
"$tessera" generate attention --rows 9000 --cols 16 --row-norm 0.9 --ridge 1e-3 --output-dir att9 >/dev/null
att9=(solve attention --matrix att9/A.npy --rhs att9/b.npy --ridge 1e-3 --method pcg --memory-budget 1G --tile-rows 1000
      --max-iterations 25 --quiet)
compare "attention pcg, 9,000 rows in tiles of 1,000" "${att9[@]}"
compare "attention pcg, 9,000 rows in tiles of 1,001" solve attention --matrix att9/A.npy --rhs att9/b.npy --ridge 1e-3 \
    --method pcg --memory-budget 120M --tile-rows 1001 --max-iterations 25 --quiet
# The kernel product's ring (K on the fly) on 3 ranks too (odd P: no tied round): pcg's own
# choice (float32 inner products, float64 for the certificate), all float32 panels (packets of
# float32 rows), and all float64 from a Fortran-order copy of A (tiles with leading dimension n
# whose packet copies have leading dimension rows).
compare_ranks="1 2 3 4"
compare "attention pcg on the fly" solve attention --matrix att/A.npy --rhs att/b.npy --ridge 1e-3 --method pcg \
    --memory-budget 40M --tile-rows 512 --max-iterations 25 --quiet
compare "attention pcg --precision mixed" solve attention --matrix att/A.npy --rhs att/b.npy --ridge 1e-3 --method pcg \
    --precision mixed --memory-budget 40M --tile-rows 512 --max-iterations 25 --quiet
python3 -c 'import numpy as np; np.save("attf.npy", np.asfortranarray(np.load("att/A.npy")))'
compare "attention pcg, Fortran-order A" solve attention --matrix attf.npy --rhs att/b.npy --ridge 1e-3 --method pcg \
    --precision double --memory-budget 40M --tile-rows 512 --max-iterations 25 --quiet
compare_ranks="1 2 4"
echo "test-mpi: $runs distributed attention solves compared byte for byte with the single-process x"
# divided TASK NUM DEN MESSAGE ARGS...: rank 0 of 2 (the rank whose --trace is written) runs
# NUM/DEN of the TASK tasks one process runs for `tessera ARGS`.
divided() {
    local task="$1" num="$2" den="$3" message="$4"; shift 4
    "$tessera" "$@" --trace d1.json --output xd1.npy || true
    mpi 2 "$@" --trace d2.json --output xd2.npy || true
    python3 - "$task" "$num" "$den" <<'PYTHON' || fail "$message"
import json, sys
task, num, den = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def count(path):
    events = json.load(open(path))
    events = events["traceEvents"] if isinstance(events, dict) else events
    return sum(1 for e in events if e.get("name") == task)
one, two = count("d1.json"), count("d2.json")
print(f"test-mpi: {task} tasks on 1 rank {one}, on rank 0 of 2 {two}")
sys.exit(0 if one > 0 and den * two == num * one else 1)
PYTHON
}
# The ring divides the product: of the 15 tile pairs of 5 tiles (rank 0 owns tiles 0-1, rank 1
# tiles 2-4), rank 0 of 2 computes its own 3 and the 3 cross pairs with i + j even (KernelRing).
divided kernel-block 6 15 "attention on 2 ranks: rank 0 did not compute 6 of every 15 kernel tile pairs" \
    solve attention --matrix att/A.npy --rhs att/b.npy --ridge 1e-3 --method pcg --memory-budget 40M --tile-rows 512 \
    --max-iterations 5 --threads 1 --quiet
# ... and the preconditioner: rank 0 of 2 runs the triangular solves of its 2 row blocks of 5 only.
divided rpc-solve 2 5 "attention on 2 ranks: the preconditioner's row blocks were not divided" "${att9[@]}" --threads 1
# The product is divided, not repeated: rank 0 received the other rank's tiles and contributions.
TESSERA_MPI_STATS=1 mpi 2 solve attention --matrix att/A.npy --rhs att/b.npy --ridge 1e-3 --method pcg --memory-budget 40M \
    --tile-rows 512 --max-iterations 5 --threads 1 --quiet --output xs.npy 2>stats.txt || true
grep -Eq 'exchanges [1-9][0-9]*, bytes received [1-9]' stats.txt || fail "attention on 2 ranks exchanged no kernel contributions: $(cat stats.txt)"

# A NaN in the last rows: only the last rank's groups read them.
python3 - <<'PYTHON'
import numpy as np
a = np.load("g1/A.npy"); a[-3, 5] = np.nan; np.save("nan.npy", a)
PYTHON
for method in pcg cholesky; do
    rm -f xn.npy
    set +e; mpi 2 solve gram --matrix nan.npy --rhs g1/b.npy --method "$method" --output xn.npy >out.txt 2>err.txt; got=$?; set -e
    [ "$got" = 2 ] || fail "NaN ($method): exit $got, expected 2"
    [ "$(grep -c '^tessera: error:' err.txt)" = 1 ] || fail "NaN ($method): expected one 'tessera: error:' line, got: $(cat err.txt)"
    grep -q 'non-finite value at row 11997, column 5' err.txt || fail "NaN ($method): the message does not name row 11997, column 5"
    [ ! -e xn.npy ] || fail "NaN ($method): x was written"
done
# ... and attention's ring: rank 1 owns the last tile, the only one that reads the NaN row.
python3 -c 'import numpy as np; a = np.load("att/A.npy"); a[-3, 5] = np.nan; np.save("attnan.npy", a)'
rm -f xn.npy
set +e; mpi 2 solve attention --matrix attnan.npy --rhs att/b.npy --ridge 1e-3 --method pcg --memory-budget 40M \
    --tile-rows 512 --output xn.npy >out.txt 2>err.txt; got=$?; set -e
[ "$got" = 2 ] && [ "$(grep -c '^tessera: error:' err.txt)" = 1 ] && grep -q 'row 2497, column 5' err.txt && [ ! -e xn.npy ] ||
    fail "attention NaN on 2 ranks: exit $got, expected 2, one message naming row 2497, column 5, no x: $(cat err.txt)"
echo "test-mpi: a NaN in rank 1's rows fails both ranks with one message, nothing written"

# Ranks with different --threads would plan differently: refused on every rank, one message.
rm -f xt.npy
solve=(solve gram --matrix g1/A.npy --rhs g1/b.npy --method pcg --output xt.npy)
set +e; timeout 120 mpirun --allow-run-as-root --oversubscribe -np 1 "$tessera" "${solve[@]}" --threads 1 : \
    -np 1 "$tessera" "${solve[@]}" --threads 2 >out.txt 2>err.txt; got=$?; set -e
[ "$got" = 2 ] || fail "different --threads: exit $got, expected 2"
[ "$(grep -c '^tessera: error: rank 1 has 2 threads' err.txt)" = 1 ] || fail "different --threads: expected one message naming rank 1: $(cat err.txt)"
[ ! -e xt.npy ] || fail "different --threads: x was written"
echo "test-mpi: ranks with different --threads are refused with one message"

rm -f xk.npy
start=$SECONDS
set +e; TESSERA_TEST_KILL_RANK=1 mpi 2 solve gram --matrix g1/A.npy --rhs g1/b.npy --method pcg --output xk.npy >out.txt 2>err.txt; got=$?; set -e
[ "$got" != 0 ] && [ "$got" != 124 ] || fail "killed rank: exit $got (124 = hung until the timeout)"
grep -q 'exited on signal 9' err.txt || fail "killed rank: mpirun did not name the killed rank: $(cat err.txt)"
[ ! -e xk.npy ] || fail "killed rank: x was written"
echo "test-mpi: a killed rank ends the run in $((SECONDS - start)) s (exit $got), nothing written"

[ "$failures" = 0 ] || { echo "test-mpi: $failures failure(s)"; exit 1; }
echo "test-mpi: all passed"
