import TesseraCore
import TesseraKernels
import TesseraRuntime

/// A tiled A rounded to float32, tile by tile, row-major (row r of tile t at `pointer(t)` +
/// r·d), each tile on its tile's NUMA domain: the operand of the attention kernel's
/// mixed-precision panels (SGEMM at twice DGEMM's rate). Made by one task per tile (one read of
/// A, n·d·4 bytes); checks each tile of A for NaN/Inf first (`.invalidInput`). Rounding changes
/// each entry by at most 2⁻²⁴ relative, so ⟨ãᵢ, ã_k⟩ differs from ⟨aᵢ, a_k⟩ by at most
/// (d + 2)·2⁻²⁴·‖aᵢ‖‖a_k‖ once SGEMM's float32 sum is counted.
///
/// Invariant (why `@unchecked Sendable` is sound): each tile's memory is owned by its
/// `TileStorage` (rebound to Float once, here, before any task sees it), written only by the
/// task that makes it and read-only afterwards; tasks that read it declare its handle.
///
/// In a distributed engine a process rounds only the tiles it owns in the kernel product's ring
/// (`KernelRing`, `held`): the others' float32 rows reach it in the ring's packets, so it reads
/// only its own rows of A. `pointer(t)` of a tile not held is a placeholder of one float.
public final class SingleRowTiles: @unchecked Sendable {
    public let layout: TileLayout
    /// The tiles rounded here (all of them in a single process).
    public let held: Range<Int>
    let storages: [TileStorage]
    let pointers: [UnsafeMutablePointer<Float>]

    public init(_ matrix: TiledMatrix, engine: Engine) throws(TesseraError) {
        layout = matrix.layout
        let d = matrix.cols
        let held = KernelRing.heldTiles(tileCount: matrix.layout.tileCount, engine: engine)
        self.held = held
        // Allocation failures are agreed: distributed, the others go on to the ring.
        let lay = matrix.layout
        let storages = try TiledMatrix.agreeingOnFailure(engine: engine) { () throws(TesseraError) in
            try matrix.tiles.enumerated().map { (t, source) throws(TesseraError) in
                let floats = held.contains(t) ? try Checked.multiply(lay.rowCount(ofTile: t), d, "a float32 tile") : 1
                return try TileStorage(rows: (floats + 1) / 2, cols: 1, domain: source.domain, profile: engine.profile, zeroed: false)
            }
        }
        let pointers = storages.map { storage in
            UnsafeMutableRawPointer(storage.memory.baseAddress).bindMemory(to: Float.self, capacity: 2 * storage.rows)
        }
        self.storages = storages
        self.pointers = pointers
        let graph = TaskGraph()
        for (t, source) in matrix.tiles.enumerated() where held.contains(t) {
            graph.add(name: "round-to-single", reads: [source.handle], writes: [storages[t].handle], domain: source.domain) { _ in
                // The rounding is the tile's non-finite scan.
                guard source.tile.roundRowsToSingle(columns: d, into: self.pointers[t]) else { throw matrix.nonFiniteError() }
                source.markFinite()
            }
        }
        guard let exchange = engine.exchange, exchange.size > 1 else {
            try engine.run(graph)
            return
        }
        // Distributed, the ranks agree on the outcome (a rank failing alone must not leave the
        // others waiting in the ring).
        var failure: TesseraError?
        do { try engine.run(graph) } catch { failure = error }
        try exchange.agree(failure: failure)
    }

    /// Tile t's float32 rows.
    public func pointer(_ t: Int) -> UnsafePointer<Float> { UnsafePointer(pointers[t]) }
    /// Tile t's handle (tasks that read its rows declare it).
    public func handle(_ t: Int) -> DataHandle { storages[t].handle }
    public var cols: Int { layout.cols }
}

/// Float32 panel scratch for one product: `capacity` floats per worker, allocated per call (as the
/// float64 path's scratch is), so concurrent products on one operator never share a panel.
/// Invariant (why `@unchecked Sendable` is sound): the memory is owned by `storage`, bound to
/// Float once here, and a task writes only the panel of the worker running it.
public final class SinglePanels: @unchecked Sendable {
    let storage: TileStorage
    let base: UnsafeMutablePointer<Float>
    public let capacity: Int

    public init(capacity: Int, engine: Engine) throws(TesseraError) {
        let floats = try Checked.multiply(capacity, engine.workerCount, "float32 panels")
        storage = try TileStorage(rows: (floats + 1) / 2, cols: 1, domain: 0, profile: engine.profile, zeroed: false)
        base = UnsafeMutableRawPointer(storage.memory.baseAddress).bindMemory(to: Float.self, capacity: floats)
        self.capacity = capacity
    }

    /// The panel of one worker.
    public func panel(worker: Int) -> UnsafeMutablePointer<Float> { base + worker * capacity }
}
