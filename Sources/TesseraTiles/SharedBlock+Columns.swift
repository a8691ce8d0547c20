import TesseraCore

extension SharedBlock {
    /// A rows × m block (column-major, leading dimension rows) whose column j is `columns[j]`,
    /// e.g. m right-hand sides of length n. Throws `invalidArgument` when the columns differ in
    /// length or there are none; memory rows·m doubles.
    public convenience init(columns: [[Double]], engine: Engine) throws(TesseraError) {
        guard let rows = columns.first?.count, columns.allSatisfy({ $0.count == rows }) else {
            throw .invalidArgument("a block of columns needs at least one column, all of the same length")
        }
        try self.init(rows: rows, cols: columns.count, engine: engine, zeroed: false)
        for (j, column) in columns.enumerated() {
            let out = pointer + j * rows
            for (i, v) in column.enumerated() { out[i] = v }
        }
    }
}
