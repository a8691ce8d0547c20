import TesseraCore
import TesseraTiles

extension TiledMatrix {
    /// A 2-D `.npy` array (C or Fortran order, any numeric dtype) as a tiled matrix.
    ///
    /// A little-endian float64 array (the common case) is used **in place**: the tiles are views
    /// of the mapped file (row-major for C order, column-major with leading dimension n for
    /// Fortran order), nothing is copied or read here, and NaN/±Inf is detected by the first pass
    /// that reads A (`TiledMatrix.requireFinite`), naming the file and the first such entry in
    /// file order. The file's pages come and go with the page cache, so A may be larger than
    /// memory. Any other dtype (or `inPlace: false`) is converted into owned tiles, one task per
    /// tile (`copyIn`), which refuses a non-finite entry after the copy with the same message.
    /// Refuses arrays that are not 2-D or have an empty dimension.
    public static func load(_ array: NpyArray, tileRows: Int?, engine: Engine, inPlace: Bool = true) throws(TesseraError) -> TiledMatrix {
        guard array.shape.count == 2 else {
            throw .invalidInput("\(array.path) has shape \(array.header.shapeText); a matrix must be 2-D (n, d)")
        }
        let n = array.shape[0], d = array.shape[1]
        guard n >= 1, d >= 1 else { throw .invalidInput("\(array.path) has shape \(array.header.shapeText); both dimensions must be at least 1") }
        let layout = try TileLayout(rows: n, cols: d, tileRows: tileRows ?? engine.recommendedTileRows(rows: n, cols: d).tileRows)
        if inPlace, array.canBeUsedInPlace {
            return try array.withRawMatrix { (raw) throws(TesseraError) in
                try TiledMatrix(viewing: raw, layout: layout, engine: engine, name: array.path)
            }
        }
        let matrix = try TiledMatrix(layout: layout, engine: engine, zeroed: false, name: array.path,
                                     reportsInRowOrder: !array.fortranOrder)
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
        let n = matrix.rows, d = matrix.cols
        var rowMajor = [Double](repeating: 0, count: n * d)
        rowMajor.withUnsafeMutableBufferPointer { buffer in
            for (t, tile) in matrix.tiles.enumerated() {
                tile.tile.copyRowMajor(into: buffer.baseAddress! + matrix.layout.rowRange(ofTile: t).lowerBound * d, ld: d)
            }
        }
        return try encode(rowMajor, shape: [n, d])
    }
}
