import XCTest
import CVectorMath
import TesseraCore
import TesseraKernels
import TesseraTestSupport

/// The fused product kernels against plain loops on random data, on tiles whose leading
/// dimension exceeds their rows, with ragged panels and column counts that are not a multiple
/// of 4. The portable C variants (the kernels' fallback without AVX2) are checked through
/// CVectorMath, since TesseraKernels picks the variant from the CPU.
final class ProductKernelTests: XCTestCase {
    /// The fused panel kernel w = AᵀA·y against plain loops, on a tile with a leading dimension
    /// larger than its rows, several panels, a short last panel, and a column count that is not a
    /// multiple of 4; the AVX2 and portable versions agree to rounding.
    func testGramVectorProductMatchesPlainLoops() {
        let rows = 2_501, cols = 301, ld = 2_600
        XCTAssertLessThan(GramVectorProduct.panelRows(cols: cols), rows / 4)
        let g = Philox4x32(seed: 21)
        let a = (0..<(ld * cols)).map { g.normal(index: UInt64($0), stream: 1) }
        let y = (0..<cols).map { g.normal(index: UInt64($0), stream: 2) }
        let reference = Self.gramTimes(a, ld: ld, rows: rows, cols: cols, y: y)
        var scratch = [Double](repeating: 0, count: rows), w = [Double](repeating: .nan, count: cols)
        GramVectorProduct.apply(a, ld: ld, rows: rows, cols: cols, y: y, scratch: &scratch, w: &w)
        XCTAssertLessThanOrEqual(Reference.maxRelativeDifference(w, reference), 1e-12)
        var portable = [Double](repeating: .nan, count: cols)
        let panel = GramVectorProduct.panelRows(cols: cols)
        tessera_gram_gemv_portable(a, ld, rows, cols, panel, y, &scratch, &portable)
        XCTAssertLessThanOrEqual(Reference.maxRelativeDifference(portable, reference), 1e-12)
    }

    /// W = AᵀA·Y for a block of m columns: each column within 1e-12 of plain loops, and column
    /// k has the same bits as the one-vector kernel on y_k (as documented).
    func testGramBlockProductMatchesPlainLoopsAndTheVectorKernel() {
        for (rows, cols, m) in [(1_000, 37, 3), (389, 64, 8), (5, 3, 1)] {
            let ld = rows + 3
            let a = Reference.randomVector(count: ld * cols, seed: UInt64(rows), stream: 1)
            let y = Reference.randomVector(count: cols * m, seed: UInt64(rows), stream: 2)
            var scratch = [Double](repeating: 0, count: rows), w = [Double](repeating: .nan, count: cols * m)
            a.withUnsafeBufferPointer { ap in y.withUnsafeBufferPointer { yp in
                scratch.withUnsafeMutableBufferPointer { sp in w.withUnsafeMutableBufferPointer { wp in
                    GramVectorProduct.apply(block: ap.baseAddress!, ld: ld, rows: rows, cols: cols, columns: m,
                                            y: yp.baseAddress!, scratch: sp.baseAddress!, w: wp.baseAddress!)
                } }
            } }
            for k in 0..<m {
                let yk = Array(y[(k * cols)..<((k + 1) * cols)])
                let column = Array(w[(k * cols)..<((k + 1) * cols)])
                let reference = Self.gramTimes(a, ld: ld, rows: rows, cols: cols, y: yk)
                XCTAssertLessThanOrEqual(Reference.maxRelativeDifference(column, reference), 1e-12, "\(rows)×\(cols), column \(k)")
                var single = [Double](repeating: .nan, count: cols)
                GramVectorProduct.apply(a, ld: ld, rows: rows, cols: cols, y: yk, scratch: &scratch, w: &single)
                XCTAssertEqual(single.map(\.bitPattern), column.map(\.bitPattern), "\(rows)×\(cols), column \(k)")
            }
        }
    }

    /// y_I += K·x_J and y_J += Kᵀ·x_I from one stored block, against plain loops, with and
    /// without the transposed half; the portable variant agrees to rounding.
    func testSymmetricBlockProductMatchesPlainLoops() {
        for (rows, cols) in [(257, 131), (64, 64), (3, 7)] {
            let ld = rows + 5
            let k = Reference.randomVector(count: ld * cols, seed: UInt64(rows * 1_000 + cols), stream: 1)
            let xRows = Reference.randomVector(count: rows, seed: 5, stream: 2)
            let xCols = Reference.randomVector(count: cols, seed: 5, stream: 3)
            let y0Rows = Reference.randomVector(count: rows, seed: 5, stream: 4)
            let y0Cols = Reference.randomVector(count: cols, seed: 5, stream: 5)
            var refRows = y0Rows, refCols = y0Cols
            for j in 0..<cols { for i in 0..<rows { refRows[i] += k[i + j * ld] * xCols[j] } }
            for j in 0..<cols { for i in 0..<rows { refCols[j] += k[i + j * ld] * xRows[i] } }
            for transposedToo in [true, false] {
                var yRows = y0Rows, yCols = y0Cols, pRows = y0Rows, pCols = y0Cols
                SymmetricBlockProduct.apply(k, ld: ld, rows: rows, cols: cols, xRows: xRows, xCols: xCols,
                                            yRows: &yRows, yCols: &yCols, transposedToo: transposedToo)
                tessera_symmetric_block_gemv_portable(k, ld, rows, cols, xRows, xCols, &pRows, &pCols, transposedToo ? 1 : 0)
                let what = "\(rows)×\(cols), transposed \(transposedToo)"
                XCTAssertLessThanOrEqual(Reference.maxRelativeDifference(yRows, refRows), 1e-13, what)
                XCTAssertLessThanOrEqual(Reference.maxRelativeDifference(pRows, refRows), 1e-13, what)
                if transposedToo {
                    XCTAssertLessThanOrEqual(Reference.maxRelativeDifference(yCols, refCols), 1e-13, what)
                    XCTAssertLessThanOrEqual(Reference.maxRelativeDifference(pCols, refCols), 1e-13, what)
                } else {
                    XCTAssertEqual(yCols, y0Cols, what)
                    XCTAssertEqual(pCols, y0Cols, what)
                }
            }
        }
    }

    /// H·x against the dense Sylvester–Hadamard matrix H[i, j] = (−1)^{popcount(i & j)}, and
    /// H·H = n·I (applying the transform twice multiplies by n, exactly for small integers).
    func testWalshHadamardMatchesTheDenseMatrix() {
        for n in [1, 2, 8, 64, 1_024] {
            let x = Reference.randomVector(count: n, seed: UInt64(n), stream: 1)
            var reference = [Double](repeating: 0, count: n)
            for i in 0..<n { for j in 0..<n { reference[i] += ((i & j).nonzeroBitCount & 1 == 0 ? 1 : -1) * x[j] } }
            var y = x
            y.withUnsafeMutableBufferPointer { WalshHadamard.transform($0.baseAddress!, count: n) }
            XCTAssertLessThanOrEqual(Reference.maxRelativeDifference(y, reference), 1e-14, "n = \(n)")
            var integers = (0..<n).map { Double($0 % 7) - 3 }
            let original = integers
            integers.withUnsafeMutableBufferPointer { WalshHadamard.transform($0.baseAddress!, count: n) }
            integers.withUnsafeMutableBufferPointer { WalshHadamard.transform($0.baseAddress!, count: n) }
            XCTAssertEqual(integers, original.map { $0 * Double(n) }, "n = \(n)")
        }
    }

    /// AᵀA·y by plain loops: t = A·y, then Aᵀ·t.
    /// The row-major kernels (C-order tiles): AᵀA·Y and the fused least-squares gradient
    /// Aᵀ(b − Ax) with ‖b − Ax‖² against plain loops, at widths that run one row at a time (100)
    /// and four rows at a time (600, 1,001: a ragged tail of columns), with a row count that
    /// leaves a tail of rows; with b = 0 the gradient is exactly −AᵀA·x (t = −a·x is exact), so
    /// the two kernels' row grouping gives the same bits; the portable variants agree to rounding.
    func testRowMajorKernelsMatchPlainLoops() {
        for (rows, cols) in [(37, 100), (37, 600), (23, 1_001)] {
            let ld = cols + 5
            let g = Philox4x32(seed: 23)
            let a = (0..<(ld * rows)).map { g.normal(index: UInt64($0), stream: 1) }
            let x = (0..<cols).map { g.normal(index: UInt64($0), stream: 2) }
            let b = (0..<rows).map { g.normal(index: UInt64($0), stream: 3) }
            // Column-major copy for the reference loops.
            var columns = [Double](repeating: 0, count: rows * cols)
            for r in 0..<rows { for c in 0..<cols { columns[r + c * rows] = a[r * ld + c] } }
            let gram = Self.gramTimes(columns, ld: rows, rows: rows, cols: cols, y: x)
            var residual = b
            for c in 0..<cols { for r in 0..<rows { residual[r] -= columns[r + c * rows] * x[c] } }
            var gradient = [Double](repeating: 0, count: cols)
            for c in 0..<cols { for r in 0..<rows { gradient[c] += columns[r + c * rows] * residual[r] } }
            let squares = residual.map { $0 * $0 }.reduce(0, +)

            var w = [Double](repeating: .nan, count: cols)
            GramVectorProduct.applyRows(a, ld: ld, rows: rows, cols: cols, columns: 1, y: x, w: &w)
            XCTAssertLessThanOrEqual(Reference.maxRelativeDifference(w, gram), 1e-12, "AᵀA·x, d = \(cols)")
            var z = [Double](repeating: .nan, count: cols)
            let fused = GramVectorProduct.residualGradientRows(a, ld: ld, rows: rows, cols: cols, x: x, b: b, z: &z)
            XCTAssertLessThanOrEqual(Reference.maxRelativeDifference(z, gradient), 1e-10, "Aᵀ(b − Ax), d = \(cols)")
            XCTAssertEqual(fused, squares, accuracy: 1e-12 * squares, "‖b − Ax‖², d = \(cols)")
            let zeros = [Double](repeating: 0, count: rows)
            var negated = [Double](repeating: .nan, count: cols)
            _ = GramVectorProduct.residualGradientRows(a, ld: ld, rows: rows, cols: cols, x: x, b: zeros, z: &negated)
            XCTAssertEqual(negated.map { -$0 }, w, "b = 0: exactly −AᵀA·x, d = \(cols)")
            var portable = [Double](repeating: .nan, count: cols), portableSquares = 0.0
            tessera_residual_gradient_rows_portable(a, ld, rows, cols, x, b, &portable, &portableSquares)
            XCTAssertLessThanOrEqual(Reference.maxRelativeDifference(portable, gradient), 1e-10, "portable, d = \(cols)")
            XCTAssertEqual(portableSquares, squares, accuracy: 1e-12 * squares)
        }
    }

    /// ‖R‖₂ and ‖R⁻¹‖₂ by Lanczos against the singular values of a random triangular R with a
    /// spread spectrum: never above the truth (Ritz values) and within 2% of it; R's dominant
    /// right singular vector v gives ‖Rv‖ within 2% of σ₁.
    func testTriangularNormsByLanczosBoundTheTruthFromBelow() {
        for order in [1, 5, 300] {
            let g = Philox4x32(seed: 29)
            var values = [Double](repeating: 0, count: order * order)
            for j in 0..<order {
                for i in 0..<j { values[i + j * order] = 0.1 * g.normal(index: UInt64(i + j * order), stream: 4) }
                values[j + j * order] = 1 + Double(j % 17)
            }
            let r = UpperTriangular(values: values, order: order)
            let s = JacobiSVD.singularValues(values, rows: order, cols: order)
            let largest = s.max() ?? 0, smallest = s.min() ?? 1
            XCTAssertLessThanOrEqual(r.norm2, largest * (1 + 1e-12), "order \(order)")
            XCTAssertGreaterThan(r.norm2, 0.98 * largest, "order \(order)")
            XCTAssertLessThanOrEqual(r.inverseNorm2, (1 / smallest) * (1 + 1e-12), "order \(order)")
            XCTAssertGreaterThan(r.inverseNorm2, 0.98 / smallest, "order \(order)")
            let v = r.dominantSingularPair.vector
            XCTAssertEqual(v.norm2, 1, accuracy: 1e-12)
            XCTAssertGreaterThan(r.times(v).norm2, 0.98 * largest, "order \(order)")
        }
    }

    static func gramTimes(_ a: [Double], ld: Int, rows: Int, cols: Int, y: [Double]) -> [Double] {
        var t = [Double](repeating: 0, count: rows)
        for c in 0..<cols { for r in 0..<rows { t[r] += a[r + c * ld] * y[c] } }
        var w = [Double](repeating: 0, count: cols)
        for c in 0..<cols { for r in 0..<rows { w[c] += a[r + c * ld] * t[r] } }
        return w
    }
}
