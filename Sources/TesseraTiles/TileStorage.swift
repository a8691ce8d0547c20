import TesseraCore
import TesseraPlatform
import TesseraRuntime

/// The owner of one tile's (or vector block's) memory, placed on a NUMA domain, together with
/// the `DataHandle` that tasks declare when they read or write it.
/// Memory: rows × cols doubles, column-major, leading dimension = rows.
public final class TileStorage: Sendable {
    public let memory: PlacedMemory
    public let rows: Int
    public let cols: Int
    public let handle: DataHandle

    public init(rows: Int, cols: Int, domain: Int, profile: MachineProfile, zeroed: Bool = true) throws(TesseraError) {
        let count = try Checked.multiply(rows, cols, "a tile of \(rows)×\(cols)")
        memory = try PlacedMemory(count: count, domain: domain, profile: profile, zeroed: zeroed)
        self.rows = rows
        self.cols = cols
        handle = DataHandle.make()
    }

    /// The domain the memory was requested from.
    public var domain: Int { memory.requestedDomain }

    /// The tile's view.
    public var tile: Tile { Tile(base: memory.baseAddress, rows: rows, cols: cols, ld: max(rows, 1)) }

    /// The contents, column-major.
    public func toArray() -> [Double] { Array(UnsafeBufferPointer(start: memory.baseAddress, count: rows * cols)) }
}
