import TesseraCore
import TesseraTiles

extension TiledMatrix {
    /// A tiled copy of a 2-D `.npy` array (C or Fortran order, any numeric dtype): one task per
    /// tile converts, lays out and checks its rows as it copies them (`copyIn`), so the file is
    /// read once, in parallel, with nothing scanned before; pages of a C-order file are dropped
    /// from memory as their rows are copied. Refuses arrays that are not 2-D and, after the copy,
    /// arrays that hold NaN/±Inf, naming the file and the first such entry in file order.
    public static func load(_ array: NpyArray, tileRows: Int?, engine: Engine) throws(TesseraError) -> TiledMatrix {
        guard array.shape.count == 2 else {
            throw .invalidInput("\(array.path) has shape \(array.header.shapeText); a matrix must be 2-D (n, d)")
        }
        let n = array.shape[0], d = array.shape[1]
        guard n >= 1, d >= 1 else { throw .invalidInput("\(array.path) has shape \(array.header.shapeText); both dimensions must be at least 1") }
        let layout = try TileLayout(rows: n, cols: d, tileRows: tileRows ?? engine.recommendedTileRows(rows: n, cols: d).tileRows)
        let matrix = try TiledMatrix(layout: layout, engine: engine, zeroed: false)
        let bad = try array.withRawMatrix { (raw) throws(TesseraError) in try matrix.copyIn(raw, engine: engine) }
        if let bad {
            throw .invalidInput("\(array.path) holds a non-finite value at row \(bad.row), column \(bad.col); remove or replace NaN/Inf entries")
        }
        return matrix
    }
}

extension NpyWriter {
    /// Writes a tiled n×d matrix as a C-order (row-major) `.npy`, the layout NumPy users expect.
    public static func write(_ matrix: TiledMatrix, to path: String) throws(TesseraError) {
        try AtomicFile.write(encode(matrix), to: path)
    }

    /// The bytes of `write(_:to:)`, for `AtomicFileGroup.stage`.
    public static func encode(_ matrix: TiledMatrix) throws(TesseraError) -> [[UInt8]] {
        let n = matrix.rows, d = matrix.cols, a = matrix.toColumnMajorArray()
        var rowMajor = [Double](repeating: 0, count: n * d)
        for j in 0..<d { for i in 0..<n { rowMajor[i * d + j] = a[i + j * n] } }
        return try encode(rowMajor, shape: [n, d])
    }
}
