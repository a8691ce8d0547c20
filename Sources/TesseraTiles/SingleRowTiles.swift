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
public final class SingleRowTiles: @unchecked Sendable {
    public let layout: TileLayout
    let storages: [TileStorage]
    let pointers: [UnsafeMutablePointer<Float>]
    /// One float32 panel of `panelCapacity` entries per worker, for the products' SGEMM output
    /// (a task uses its worker's panel only).
    let panels: TileStorage
    let panelPointer: UnsafeMutablePointer<Float>
    public let panelCapacity: Int
    /// Workers the panel scratch serves (an engine with more cannot use this copy).
    public let workers: Int

    public init(_ matrix: TiledMatrix, engine: Engine) throws(TesseraError) {
        layout = matrix.layout
        let d = matrix.cols
        var storages: [TileStorage] = [], pointers: [UnsafeMutablePointer<Float>] = []
        for (t, source) in matrix.tiles.enumerated() {
            let floats = try Checked.multiply(layout.rowCount(ofTile: t), d, "a float32 tile")
            let storage = try TileStorage(rows: (floats + 1) / 2, cols: 1, domain: source.domain, profile: engine.profile, zeroed: false)
            storages.append(storage)
            pointers.append(UnsafeMutableRawPointer(storage.memory.baseAddress).bindMemory(to: Float.self, capacity: floats))
        }
        self.storages = storages
        self.pointers = pointers
        let side = Swift.min(TiledMatrix.kernelPanelRows, layout.tileRows)
        panelCapacity = side * side
        workers = engine.workerCount
        let panelFloats = try Checked.multiply(panelCapacity, engine.workerCount, "float32 panels")
        panels = try TileStorage(rows: (panelFloats + 1) / 2, cols: 1, domain: 0, profile: engine.profile, zeroed: false)
        panelPointer = UnsafeMutableRawPointer(panels.memory.baseAddress).bindMemory(to: Float.self, capacity: panelFloats)
        let graph = TaskGraph()
        for (t, source) in matrix.tiles.enumerated() {
            graph.add(name: "round-to-single", reads: [source.handle], writes: [storages[t].handle], domain: source.domain) { _ in
                try matrix.requireFinite(t)
                source.tile.roundRowsToSingle(columns: d, into: self.pointers[t])
            }
        }
        try engine.run(graph)
    }

    /// Tile t's float32 rows.
    public func pointer(_ t: Int) -> UnsafePointer<Float> { UnsafePointer(pointers[t]) }
    /// The float32 panel scratch of one worker (`panelCapacity` entries).
    public func panel(worker: Int) -> UnsafeMutablePointer<Float> { panelPointer + worker * panelCapacity }
    /// Tile t's handle (tasks that read its rows declare it).
    public func handle(_ t: Int) -> DataHandle { storages[t].handle }
    public var cols: Int { layout.cols }
}
