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
    /// Writes a tiled n×d matrix as a C-order (row-major) `.npy`, the layout NumPy users expect,
    /// atomically, streamed tile by tile (`stage(_:in:to:)`).
    public static func write(_ matrix: TiledMatrix, to path: String) throws(TesseraError) {
        let group = AtomicFileGroup()
        try stage(matrix, in: group, to: path)
        try group.commit()
    }

    /// Stages a tiled matrix as a C-order `.npy` in `group`, streamed: one tile's rows at a time
    /// are laid out row-major in a scratch block and written at their offset, so the file is
    /// never held in memory (extra memory: one tile). Throws the file's `io` errors.
    public static func stage(_ matrix: TiledMatrix, in group: AtomicFileGroup, to path: String) throws(TesseraError) {
        try group.stage(path: path) { (file) throws(TesseraError) in
            let sink = try NpyRowSink(file: file, rows: matrix.rows, cols: matrix.cols)
            var scratch = [Double](repeating: 0, count: matrix.layout.tileRows * matrix.cols)
            for t in 0..<matrix.layout.tileCount {
                let rows = matrix.layout.rowRange(ofTile: t)
                try scratch.withUnsafeMutableBufferPointer { (buffer) throws(TesseraError) in
                    matrix.copyRows(rows, toRowMajor: buffer.baseAddress!)
                    try sink.write(rows: rows, rowMajor: buffer.baseAddress!)
                }
            }
        }
    }
}
