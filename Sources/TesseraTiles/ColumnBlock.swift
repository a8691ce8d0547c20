import TesseraCore
import TesseraRuntime

/// A dense column-major block B ∈ ℝ^{rows×cols} (leading dimension rows) in one allocation — a
/// tall low-rank factor F ∈ ℝ^{n×k}, a test matrix, a k×k core, a vector — whose row blocks and
/// column blocks each carry their own `DataHandle`, so that tasks writing disjoint parts run at
/// once and every write is declared with the handle of the part it writes.
///
/// The parts: rows are cut at the multiples of `rowBlock` (2,048 by default, the fixed split of
/// every row-block operation) and, when a tile layout is given, also at its tile boundaries (so
/// per-tile tasks such as `TiledMatrix.kernelColumns` write disjoint parts too); columns at the
/// multiples of `columnBlock` (all columns in one part by default). A task touching rows R and
/// columns C declares every part that meets R × C. The operations (`ColumnBlock+Operations`)
/// split their work by fixed row blocks of `ColumnBlock.rowBlock` rows or column blocks of
/// `ColumnBlock.columnBlock` columns only, so results have the same bits for any number of
/// workers. Memory rows·cols doubles. Throws `outOfMemory`/`internalFailure` from allocation only.
public final class ColumnBlock: Sendable {
    public let rows: Int
    public let cols: Int
    let shared: SharedBlock
    /// Starts of the row parts (the first is 0) and of the column parts.
    let rowStarts: [Int]
    let columnStarts: [Int]
    /// handles[rowPart * columnStarts.count + columnPart].
    let handles: [DataHandle]

    /// Rows per task of the row-block operations (fixed, so bits do not depend on the workers).
    public static let rowBlock = 2_048
    /// Columns per task of the column-block operations.
    public static let columnBlock = 256

    /// A zeroed (unless `zeroed` is false) rows × cols block on NUMA `domain`.
    public convenience init(rows: Int, cols: Int, engine: Engine, domain: Int = 0, zeroed: Bool = true,
                            rowBlock: Int = ColumnBlock.rowBlock, columnBlock: Int? = nil,
                            alignedWith layout: TileLayout? = nil) throws(TesseraError) {
        let shared = try SharedBlock(rows: rows, cols: cols, engine: engine, domain: domain, zeroed: zeroed)
        self.init(viewing: shared, rows: rows, cols: cols, rowBlock: rowBlock, columnBlock: columnBlock, alignedWith: layout)
    }

    /// A block holding `values` (column-major, rows × cols entries).
    public convenience init(_ values: [Double], rows: Int, cols: Int, engine: Engine,
                            rowBlock: Int = ColumnBlock.rowBlock, alignedWith layout: TileLayout? = nil) throws(TesseraError) {
        guard rows >= 0, cols >= 0, values.count == rows * cols else {
            throw .invalidArgument("a \(rows) × \(cols) block needs \(rows * cols) values (got \(values.count))")
        }
        try self.init(rows: rows, cols: cols, engine: engine, zeroed: false, rowBlock: rowBlock, alignedWith: layout)
        for (i, v) in values.enumerated() { shared.pointer[i] = v }
    }

    /// The memory of `shared` (at least rows × cols doubles) seen as a partitioned block: its parts
    /// get handles of their own, used by the graphs that write through this view.
    init(viewing shared: SharedBlock, rows: Int, cols: Int, rowBlock: Int = ColumnBlock.rowBlock,
         columnBlock: Int? = nil, alignedWith layout: TileLayout? = nil) {
        self.shared = shared
        self.rows = rows
        self.cols = cols
        var starts = Set(stride(from: 0, to: max(rows, 1), by: max(1, rowBlock)))
        if let layout, layout.rows == rows {
            for t in 0..<layout.tileCount { starts.insert(layout.rowRange(ofTile: t).lowerBound) }
        }
        rowStarts = starts.sorted()
        columnStarts = Array(stride(from: 0, to: max(cols, 1), by: max(1, columnBlock ?? max(cols, 1))))
        handles = (0..<(rowStarts.count * columnStarts.count)).map { _ in DataHandle.make() }
    }

    /// Index ranges of the parts (of `starts`, ending at `total`) that meet `range`.
    static func parts(_ starts: [Int], total: Int, meeting range: Range<Int>) -> [Int] {
        var result: [Int] = []
        for (p, start) in starts.enumerated() {
            let end = p + 1 < starts.count ? starts[p + 1] : max(total, start + 1)
            if start < range.upperBound && range.lowerBound < end { result.append(p) }
        }
        return result
    }

    /// The handles of the parts that meet rows × columns.
    func handles(rows r: Range<Int>, cols c: Range<Int>) -> [DataHandle] {
        let rowParts = Self.parts(rowStarts, total: rows, meeting: r.isEmpty ? 0..<1 : r)
        let columnParts = Self.parts(columnStarts, total: cols, meeting: c.isEmpty ? 0..<1 : c)
        var result: [DataHandle] = []
        for p in rowParts { for q in columnParts { result.append(handles[p * columnStarts.count + q]) } }
        return result
    }

    /// Every part's handle (a task reading the whole block).
    var allHandles: [DataHandle] { handles }

    /// The first entry; entry (i, j) is at base[i + j·rows].
    var base: UnsafeMutablePointer<Double> { shared.pointer }

    /// Entry (i, j).
    public subscript(i: Int, j: Int) -> Double { shared.pointer[i + j * rows] }

    /// All entries, column-major.
    public func toArray() -> [Double] { columns(0..<cols) }

    /// Columns `range` as a column-major rows × |range| array (a copy).
    public func columns(_ range: Range<Int>) -> [Double] {
        let lo = max(0, min(range.lowerBound, cols)), hi = max(lo, min(range.upperBound, cols))
        return Array(UnsafeBufferPointer(start: shared.pointer + lo * rows, count: (hi - lo) * rows))
    }

    /// B[indices, columns] as a column-major |indices| × |columns| array (a gather, e.g. F[S, :]).
    public func rows(_ indices: [Int], columns range: Range<Int>) -> [Double] {
        let m = indices.count
        var out = [Double](repeating: 0, count: m * range.count)
        for (r, i) in indices.enumerated() where i >= 0 && i < rows {
            for (c, j) in range.enumerated() where j >= 0 && j < cols { out[r + c * m] = shared.pointer[i + j * rows] }
        }
        return out
    }

    /// Number of fixed row blocks of `ColumnBlock.rowBlock` rows (the last may be shorter).
    public var rowBlockCount: Int { (rows + Self.rowBlock - 1) / Self.rowBlock }

    /// The rows of row blocks `blocks` (clamped to the block's rows).
    public func rowRange(ofBlocks blocks: Range<Int>) -> Range<Int> {
        let lo = min(rows, blocks.lowerBound * Self.rowBlock), hi = min(rows, blocks.upperBound * Self.rowBlock)
        return lo..<max(lo, hi)
    }

    /// Runs `body(start, count)` for the fixed row blocks of `ColumnBlock.rowBlock` rows (those of
    /// `blocks` only, when given: a process's share), one task each, declaring the parts of
    /// `writing` columns in those rows as written, and `reads` and the parts of `readingColumns`
    /// in those rows as read.
    func byRowBlocks(name: String, writing columns: Range<Int>, reads: [DataHandle] = [], readingColumns: Range<Int>? = nil,
                     blocks: Range<Int>? = nil, engine: Engine, _ body: @escaping @Sendable (Int, Int) -> Void) throws(TesseraError) {
        let graph = TaskGraph()
        let range = blocks.map { rowRange(ofBlocks: $0) } ?? 0..<rows
        for start in stride(from: range.lowerBound, to: range.upperBound, by: Self.rowBlock) {
            let count = min(Self.rowBlock, rows - start)
            let writes = handles(rows: start..<(start + count), cols: columns)
            let own = readingColumns.map { handles(rows: start..<(start + count), cols: $0) } ?? []
            graph.add(name: name, reads: (reads + own).filter { !writes.contains($0) }, writes: writes) { _ in body(start, count) }
        }
        try engine.run(graph)
    }
}
