import TesseraCore
import TesseraPlatform
import TesseraRuntime

/// A length-n vector cut like the rows of a `TiledMatrix`: block i holds the entries of row
/// tile i, on the same domain, with its own handle. Memory: n doubles.
public final class TiledVector: Sendable {
    public let layout: TileLayout
    public let blocks: [TileStorage]

    public var count: Int { layout.rows }

    /// A zero vector matching `layout`'s rows.
    public init(layout: TileLayout, engine: Engine) throws(TesseraError) {
        self.layout = layout
        var list: [TileStorage] = []
        for i in 0..<layout.tileCount {
            let d = layout.domain(ofTile: i, domainCount: engine.profile.domainCount)
            list.append(try TileStorage(rows: layout.rowCount(ofTile: i), cols: 1, domain: d, profile: engine.profile))
        }
        blocks = list
    }

    /// A vector holding `values` (count must equal the layout's rows).
    public convenience init(_ values: [Double], layout: TileLayout, engine: Engine) throws(TesseraError) {
        guard values.count == layout.rows else {
            throw .invalidArgument("vector of length \(values.count) does not match the matrix's \(layout.rows) rows")
        }
        try self.init(layout: layout, engine: engine)
        for (i, b) in blocks.enumerated() {
            let range = layout.rowRange(ofTile: i)
            values.withUnsafeBufferPointer { src in
                b.memory.baseAddress.update(from: src.baseAddress! + range.lowerBound, count: range.count)
            }
        }
    }

    /// The entries in order.
    public func toArray() -> [Double] { blocks.flatMap { $0.toArray() } }

    /// The entries of the global rows `rows` (clamped to [0, n)), in order.
    public func toArray(rows: Range<Int>) -> [Double] {
        let wanted = rows.clamped(to: 0..<count)
        var out: [Double] = []
        out.reserveCapacity(wanted.count)
        for (i, b) in blocks.enumerated() {
            let tileRows = layout.rowRange(ofTile: i), part = tileRows.clamped(to: wanted)
            guard !part.isEmpty else { continue }
            out.append(contentsOf: UnsafeBufferPointer(start: b.memory.baseAddress + (part.lowerBound - tileRows.lowerBound),
                                                       count: part.count))
        }
        return out
    }

    /// Overwrites every entry with `values` (n of them; fewer or more leave the vector as is).
    public func assign(_ values: [Double]) {
        guard values.count == count else { return }
        values.withUnsafeBufferPointer { src in
            guard let base = src.baseAddress else { return }
            for (i, b) in blocks.enumerated() {
                let range = layout.rowRange(ofTile: i)
                b.memory.baseAddress.update(from: base + range.lowerBound, count: range.count)
            }
        }
    }
}

/// A small dense vector or matrix shared read-only by many tasks (x in y = Ax, a d×d result).
/// Owned memory, column-major; `@unchecked Sendable` through `PlacedMemory`'s invariant. One
/// handle for the whole block: a block that tasks write in parts is a `ColumnBlock`. `pointer`
/// is for the tile layer's kernels; code above TesseraTiles uses the value APIs.
public final class SharedBlock: Sendable {
    public let storage: TileStorage

    /// A rows × cols block, zeroed unless `zeroed` is false (see `PlacedMemory`).
    public init(rows: Int, cols: Int = 1, engine: Engine, domain: Int = 0, zeroed: Bool = true) throws(TesseraError) {
        storage = try TileStorage(rows: rows, cols: cols, domain: domain, profile: engine.profile, zeroed: zeroed)
    }

    public convenience init(_ values: [Double], engine: Engine) throws(TesseraError) {
        try self.init(rows: values.count, engine: engine)
        values.withUnsafeBufferPointer { src in
            guard let base = src.baseAddress else { return }
            storage.memory.baseAddress.update(from: base, count: values.count)
        }
    }

    public var pointer: UnsafeMutablePointer<Double> { storage.memory.baseAddress }
    public var handle: DataHandle { storage.handle }
    public func toArray() -> [Double] { storage.toArray() }
}
