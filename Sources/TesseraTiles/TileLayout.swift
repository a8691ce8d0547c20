import TesseraCore
import TesseraPlatform

/// How a tall n×d matrix is cut into row tiles: tile i holds rows
/// [i·tileRows, min((i+1)·tileRows, n)), column-major inside the tile (so a tile is a BLAS
/// operand with leading dimension = its row count). Tiles are spread over NUMA domains in
/// contiguous blocks: tile i lives on domain ⌊i·D/T⌋.
public struct TileLayout: Sendable, Hashable {
    public let rows: Int
    public let cols: Int
    public let tileRows: Int

    /// Validates the shape: n ≥ 1, d ≥ 1, 1 ≤ tileRows ≤ n, and one tile's element count fits
    /// the 32-bit BLAS integer.
    public init(rows: Int, cols: Int, tileRows: Int) throws(TesseraError) {
        guard rows >= 1, cols >= 1 else {
            throw .invalidArgument("matrix shape \(rows)×\(cols) is empty; both dimensions must be at least 1")
        }
        guard tileRows >= 1 else { throw .invalidArgument("the tile height must be at least 1 (got \(tileRows))") }
        guard tileRows <= rows else {
            throw .invalidArgument("the tile height \(tileRows) is larger than the matrix's \(rows) rows; use at most \(rows)")
        }
        let elements = try Checked.multiply(tileRows, cols, "a tile of \(tileRows) rows × \(cols) columns")
        guard elements <= Int(Int32.max) else {
            throw .invalidArgument("a tile of \(tileRows)×\(cols) has more elements than BLAS can index; use a smaller tile height")
        }
        self.rows = rows
        self.cols = cols
        self.tileRows = tileRows
    }

    /// Number of row tiles, ⌈n / tileRows⌉.
    public var tileCount: Int { Checked.ceilDiv(rows, tileRows) }

    /// The global rows of tile i.
    public func rowRange(ofTile i: Int) -> Range<Int> {
        let start = i * tileRows
        return start..<min(start + tileRows, rows)
    }

    /// Rows in tile i.
    public func rowCount(ofTile i: Int) -> Int { rowRange(ofTile: i).count }

    /// The domain that owns tile i among `domainCount` domains (contiguous blocks of tiles).
    public func domain(ofTile i: Int, domainCount: Int) -> Int {
        guard domainCount > 1 else { return 0 }
        return i * domainCount / tileCount
    }

    /// Bytes one full tile occupies.
    public var tileBytes: Int { tileRows * cols * MemoryLayout<Double>.stride }

    /// Bytes a canonical reduction block aims at (see `reductionBlockRows`).
    public static let reductionBlockBytes = 512 << 10

    /// Rows of the canonical blocks every pass that sums over rows (AᵀA, Aᵀu, AᵀA·Y, Aᵀ(B − AY))
    /// cuts A into: the largest power of two with B·d·8 ≤ `reductionBlockBytes`, clamped to
    /// [256, 2048] and to n. It depends on (n, d) alone — not on the tile height, the thread
    /// count or the machine — so those sums, and every x built from them, have the same bits for
    /// any tiling. Default tile heights are multiples of it, so a block lies inside one tile.
    public static func reductionBlockRows(rows n: Int, cols d: Int) -> Int {
        var b = 256
        while b < 2_048 && 2 * b * max(d, 1) * MemoryLayout<Double>.stride <= reductionBlockBytes { b *= 2 }
        return max(1, min(b, n))
    }

    /// `reductionBlockRows(rows:cols:)` for this shape.
    public var reductionBlockRows: Int { Self.reductionBlockRows(rows: rows, cols: cols) }
}

/// The tile height Tessera picks for an n×d matrix and the reason, for `tessera info` and reports.
public struct TileChoice: Sendable, CustomStringConvertible {
    public let tileRows: Int
    public let reason: String
    public var description: String { "\(tileRows) rows (\(reason))" }

    /// Target bytes per tile: big enough that a per-tile SYRK/GEMV runs at full BLAS speed and
    /// the per-task overhead (≈ 1 µs) is negligible, small enough to give every worker several
    /// tiles and to keep one tile within a few L2/L3 slices.
    public static let targetTileBytes = 4 << 20

    /// Picks tile rows for an n×d matrix on `workers` workers: about `targetTileBytes` per tile
    /// (never fewer than 256 rows), cut further so there are at least 4 tiles per worker when
    /// that keeps tiles ≥ 256 rows, rounded to a multiple of the canonical reduction block
    /// (`TileLayout.reductionBlockRows`, so no block spans two tiles) and clamped to n.
    public static func recommended(rows n: Int, cols d: Int, workers: Int, caches: CacheSizes) -> TileChoice {
        let bySize = max(256, targetTileBytes / (8 * max(d, 1)))
        let forBalance = Checked.ceilDiv(n, 4 * max(workers, 1))
        var rows = bySize
        var why = "≈\(targetTileBytes >> 20) MiB per tile"
        if forBalance >= 256 && forBalance < bySize {
            rows = forBalance
            why = "4 tiles per worker for balance"
        }
        let block = TileLayout.reductionBlockRows(rows: n, cols: d)
        rows = min(n, max(block, (rows + block / 2) / block * block))
        let maxByBLAS = max(1, Int(Int32.max) / max(d, 1))
        rows = max(1, min(rows, maxByBLAS))
        let tiles = Checked.ceilDiv(n, rows)
        let l2 = caches.l2 > 0 ? "\(caches.l2 >> 10) KiB" : "unknown"
        let l3 = caches.l3 > 0 ? "\(caches.l3 >> 20) MiB" : "unknown"
        return TileChoice(tileRows: rows,
                          reason: "\(why); \(tiles) tiles of \((rows * d * 8) >> 10) KiB for \(workers) workers, L2 \(l2), L3 \(l3)")
    }
}
