import TesseraCore
import TesseraTiles

/// A C-order float64 `.npy` matrix (n×d) written block of rows by block of rows into a
/// `StreamedFile`: `init` writes the header, `write(rows:rowMajor:)` writes rows r₀..<r₁ at their
/// offset (header + r₀·d·8 bytes) with one `pwrite`, from any task, in any order (no handles: each write has its own byte range). So a matrix
/// streamed by `GeneratedMatrix.streamProduct` goes to disk without ever being held whole.
/// Values are stored little-endian (`<f8`). Memory: none on a little-endian machine, one block
/// otherwise. Throws the file's `io` errors.
public struct NpyRowSink: RowBlockSink {
    public let file: StreamedFile
    public let rows: Int
    public let cols: Int
    /// Offset of the first data byte.
    public let dataOffset: Int

    /// Writes the header of an n×d float64 C-order array at the start of `file`.
    public init(file: StreamedFile, rows: Int, cols: Int) throws(TesseraError) {
        _ = try Checked.product([rows, cols, 8], "an array of \(rows) × \(cols)")
        let header = NpyHeader.encode(shape: [rows, cols], fortranOrder: false)
        try file.write(header, at: 0)
        self.file = file
        self.rows = rows
        self.cols = cols
        dataOffset = header.count
    }

    /// The size of the whole file in bytes.
    public var byteCount: Int { dataOffset + rows * cols * 8 }

    /// Writes rows `rows` (row-major) at their place in the file.
    public func write(rows range: Range<Int>, rowMajor values: UnsafePointer<Double>) throws(TesseraError) {
        guard range.lowerBound >= 0, range.upperBound <= rows else {
            throw .internalFailure("\(file.path): rows \(range) lie outside the \(rows) rows of the array")
        }
        let count = range.count * cols, offset = dataOffset + range.lowerBound * cols * 8
        #if _endian(little)
        try file.write(UnsafeRawBufferPointer(start: values, count: count * 8), at: offset)
        #else
        let swapped = (0..<count).map { values[$0].bitPattern.littleEndian }
        try swapped.withUnsafeBufferPointer { (raw) throws(TesseraError) in try file.write(UnsafeRawBufferPointer(raw), at: offset) }
        #endif
    }
}
