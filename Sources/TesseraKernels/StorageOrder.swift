/// How a dense block of doubles lies in memory, with its leading dimension ld:
/// - `columnMajor` (Fortran order, BLAS's own): element (i, j) at i + j·ld, ld ≥ rows;
/// - `rowMajor` (C order, NumPy's default): element (i, j) at i·ld + j, ld ≥ cols.
/// A row-major rows × cols block is the column-major cols × rows block of its transpose, so BLAS
/// takes either with the transpose flag flipped (`Tile.operand(transposed:)`); nothing is copied.
public enum StorageOrder: Sendable, Hashable {
    case columnMajor, rowMajor
}
