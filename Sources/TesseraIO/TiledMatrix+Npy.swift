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
