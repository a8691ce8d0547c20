import TesseraCore
import TesseraKernels
import TesseraTiles

/// Memory a test owns for views: `count` doubles, freed when the last matrix viewing it is gone.
public final class HostBuffer: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Double>
    public init(_ values: [Double]) {
        pointer = .allocate(capacity: max(values.count, 1))
        pointer.initialize(from: values, count: values.count)
    }
    deinit { pointer.deallocate() }
}

/// The same matrix in the two storage orders a caller's memory may have.
public enum StorageForms {
    /// Views of `matrix`'s values (same layout): row-major over a C-order copy and column-major
    /// (ld = n) over a Fortran-order copy; each view keeps its buffer alive.
    public static func views(of matrix: TiledMatrix, engine: Engine) throws -> (rowMajor: TiledMatrix, columnMajor: TiledMatrix) {
        let n = matrix.rows, d = matrix.cols, dense = matrix.toColumnMajorArray()
        let cOrder = HostBuffer((0..<(n * d)).map { k in dense[(k / d) + (k % d) * n] })
        let fOrder = HostBuffer(dense)
        let row = try TiledMatrix(viewing: RawMatrix(base: cOrder.pointer, kind: .float64, rows: n, cols: d, rowMajor: true, owner: cOrder),
                                  layout: matrix.layout, engine: engine, name: "C.npy")
        let col = try TiledMatrix(viewing: RawMatrix(base: fOrder.pointer, kind: .float64, rows: n, cols: d, rowMajor: false, owner: fOrder),
                                  layout: matrix.layout, engine: engine, name: "F.npy")
        return (row, col)
    }
}
