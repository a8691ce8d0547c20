import TesseraCore
import TesseraTiles

/// Tessera's own allocations for each kind of run, in bytes (saturating, never trapping): the
/// one place memory is estimated. A used in place (a view of a memory-mapped `.npy` or of the
/// caller's buffer, `matrixInPlace`) is not counted: its pages belong to the page cache and come
/// and go, so A may be larger than memory. Each estimate is checked against a `MemoryBudget`
/// before any work starts.
public enum MemoryEstimate {
    /// A gram/lstsq solve: A's tiles (unless used in place), the sketch SA (and its row-major
    /// accumulator), d×d factors and a few n-vectors.
    public static func tallSolve(rows n: Int, cols d: Int, sketchRows s: Int, matrixInPlace: Bool = false) -> UInt64 {
        ByteCount.sum(matrixInPlace ? 0 : ByteCount.doubles(n, d), ByteCount.doubles(2, s, d),
                      ByteCount.doubles(8, d, d), ByteCount.doubles(8, n))
    }

    /// What the rank-revealing route of a rank-deficient A adds to a tall solve: the Householder
    /// stacks (`TiledMatrix.householderBytes`) and the d × d R, its SVD's work and V_r.
    public static func rankRevealing(cols d: Int, householderBytes: UInt64) -> UInt64 {
        ByteCount.sum(householderBytes, ByteCount.doubles(6, d, d))
    }

    /// Attention's common part: A's tiles and the work vectors.
    static func attentionBase(rows n: Int, cols d: Int) -> UInt64 {
        ByteCount.sum(ByteCount.doubles(n, d), ByteCount.doubles(16, n))
    }

    /// Attention `direct`: the base and K (n × n).
    public static func attentionDirect(rows n: Int, cols d: Int) -> UInt64 {
        ByteCount.sum(attentionBase(rows: n, cols: d), ByteCount.doubles(n, n))
    }

    /// Attention `pcg` with a rank-k factor: the base, F (n × k, allocated once and shared with the
    /// Woodbury preconditioner), the K-column and update blocks (n × 100 each) and the Woodbury core
    /// (k × k, three times). Measured peak resident memory at n = 60,000, d = 64, k = 4,000: 2.14 GB
    /// against 2.5 GB estimated. K's stored upper triangle, when kept, comes on top (`StoredKernel.bytes`).
    public static func attentionLowRank(rows n: Int, cols d: Int, rank k: Int) -> UInt64 {
        ByteCount.sum(attentionBase(rows: n, cols: d), ByteCount.doubles(n, k), ByteCount.doubles(4, n, 100),
                         ByteCount.doubles(3, k, k))
    }

    /// Attention `paper`/`surrogate` with m Taylor features: the base, Φ and its work blocks
    /// (n × m, four times) and the Woodbury core.
    public static func attentionFeatures(rows n: Int, cols d: Int, features m: Int) -> UInt64 {
        ByteCount.sum(attentionBase(rows: n, cols: d), ByteCount.doubles(4, n, m), ByteCount.doubles(3, m, m))
    }

    /// `tessera generate attention`: A (held, for the kernel product that makes b), one tile
    /// of it while it is written, and a few n-vectors.
    public static func generate(rows n: Int, cols d: Int) -> UInt64 {
        ByteCount.sum(ByteCount.doubles(2, n, d), ByteCount.doubles(6, n))
    }

    /// `tessera generate gram|lstsq`, which streams A and never holds it (`ProblemGenerator`):
    /// three canonical blocks per worker (the Gram pass's and the product pass's scratch), the
    /// Gram partials, a few d×d matrices and the n-vectors of b (noise, G·[c, u], b, and a copy).
    public static func generateStreamed(rows n: Int, cols d: Int, workers: Int) -> UInt64 {
        let b = GeneratedMatrix.canonicalBlockRows(rows: n, cols: d)
        let groups = GeneratedMatrix.gramGroupCount(rows: n, cols: d, extraColumns: 1)
        return ByteCount.sum(ByteCount.doubles(3, b, d, max(1, workers)), ByteCount.doubles(groups, d + 1, d),
                             ByteCount.doubles(8, d, d), ByteCount.doubles(6, n))
    }

    /// `tessera gram-matrix`: A's tiles (unless used in place) and two d × d results.
    public static func gramMatrix(rows n: Int, cols d: Int, matrixInPlace: Bool = false) -> UInt64 {
        ByteCount.sum(matrixInPlace ? 0 : ByteCount.doubles(n, d), ByteCount.doubles(2, d, d))
    }

    /// `tessera demo`: A, its dense copy for the single-call check, the solver demos' A, and
    /// n-vectors.
    public static func demo(rows n: Int, cols d: Int) -> UInt64 {
        ByteCount.sum(ByteCount.doubles(3, n, d), ByteCount.doubles(8, n))
    }
}
