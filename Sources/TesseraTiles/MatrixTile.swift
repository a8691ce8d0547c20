import Synchronization
import TesseraCore
import TesseraPlatform
import TesseraRuntime

/// One row tile of a `TiledMatrix`: either Tessera's own memory (a `TileStorage`, column-major,
/// placed on a NUMA domain) or a view of memory someone else owns — a memory-mapped `.npy`, a
/// caller's buffer — in its own storage order, which is never written. Tasks declare `handle`
/// when they read or write the tile.
///
/// It also remembers whether its entries were found finite: the first task that reads the tile
/// after it was made or last rewritten scans it (`TiledMatrix.requireFinite`), later ones do not.
/// Memory: the tile itself when owned, nothing when a view (the owner is retained).
public final class MatrixTile: Sendable {
    public let tile: Tile
    public let handle: DataHandle
    public let domain: Int
    /// Keeps the memory alive: the `TileStorage` of an owned tile, the owner of a view.
    let owner: any AnyObject & Sendable
    /// Whether the tile is a view of memory Tessera does not own.
    public let isView: Bool
    /// 0: not scanned since last written; 1: finite; 2: holds NaN/±Inf.
    let finiteState = Atomic<UInt8>(0)

    /// An owned tile.
    init(storage: TileStorage) {
        tile = storage.tile
        handle = storage.handle
        domain = storage.domain
        owner = storage
        isView = false
    }

    /// A view of `tile`, whose memory `owner` keeps alive.
    init(view tile: Tile, domain: Int, owner: any AnyObject & Sendable) {
        self.tile = tile
        handle = DataHandle.make()
        self.domain = domain
        self.owner = owner
        isView = true
    }

    /// Records that the tile was (re)written and must be scanned again before it is trusted.
    func markWritten() { finiteState.store(0, ordering: .releasing) }

    /// Records that the tile's entries are known to be finite (it was checked as it was written).
    func markFinite() { finiteState.store(1, ordering: .releasing) }

    /// Scans the tile unless that was done: true when every entry is finite.
    func scanIsFinite() -> Bool {
        switch finiteState.load(ordering: .acquiring) {
        case 1: return true
        case 2: return false
        default:
            let finite = !tile.hasNonFinite
            finiteState.store(finite ? 1 : 2, ordering: .releasing)
            return finite
        }
    }
}
