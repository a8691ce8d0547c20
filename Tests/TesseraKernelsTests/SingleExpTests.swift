import XCTest
import CVectorMath
import TesseraCore
import TesseraKernels
import TesseraTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `SingleExp` (float32 exp) against libm's float64 exp over the range mixed-precision panels
/// use, its AVX-512, AVX2 and portable variants bit for bit (those the CPU runs), and `ExpPanelProduct` (float32 panel in,
/// float64 products out) against plain float64 loops on ragged panels.
final class SingleExpTests: XCTestCase {
    /// Every input of a dense random sample of [−87, 87] and of the attention range [−2, 2], plus
    /// the edges: |expf(x) − eˣ| ≤ `relativeErrorBound`·eˣ (eˣ in float64 of the float32 x), and the
    /// AVX2 lanes equal the portable (scalar) kernel bit for bit.
    func testSingleExpWithinItsBoundOfLibm() {
        let g = Philox4x32(seed: 31)
        let count = 300_000
        var xs = (0..<count).map { Float(-87 + 174 * g.uniform(index: UInt64($0), stream: 0)) }
        xs += (0..<count).map { Float(-2 + 4 * g.uniform(index: UInt64($0), stream: 1)) }
        xs += [0, 1, -1, 87, -87, Float.leastNonzeroMagnitude, 0.5 * Float(M_LN2), -0.5 * Float(M_LN2), 0.3465736, 1e-8]
        var ys = [Float](repeating: .nan, count: xs.count), portable = ys
        SingleExp.apply(xs, &ys, count: xs.count)
        tessera_expf_portable(xs, &portable, xs.count)
        var worst = 0.0
        for (x, y) in zip(xs, ys) {
            let exact = Glibc.exp(Double(x))
            worst = max(worst, abs(Double(y) - exact) / exact)
        }
        XCTAssertLessThanOrEqual(worst, SingleExp.relativeErrorBound, "max relative error \(worst)")
        XCTAssertLessThan(SingleExp.relativeErrorBound, 3e-7)
        XCTAssertEqual(ys.map(\.bitPattern), portable.map(\.bitPattern), "\(SingleExp.lanes) lanes against the scalar kernel")
        if VectorExp.useAVX2 {
            var eight = [Float](repeating: .nan, count: xs.count)
            tessera_expf_avx2(xs, &eight, xs.count)
            XCTAssertEqual(eight.map(\.bitPattern), portable.map(\.bitPattern))
        }
        if OpenBLASRuntime.cpuHasAVX512 {
            var sixteen = [Float](repeating: .nan, count: xs.count)
            tessera_expf_avx512(xs, &sixteen, xs.count)
            XCTAssertEqual(sixteen.map(\.bitPattern), portable.map(\.bitPattern))
        }
        // Beyond the range the input is clamped: finite, positive, never NaN for finite inputs.
        var edge: [Float] = [200, -200, 88.5, -1e30, 1e30], out = [Float](repeating: 0, count: 5)
        SingleExp.apply(edge, &out, count: edge.count)
        XCTAssertTrue(out.allSatisfy { $0.isFinite && $0 > 0 }, "\(out)")
        edge = [3, 3, 3]                               // the padded tail gives the same value
        SingleExp.apply(edge, &out, count: 3)
        XCTAssertEqual(out[0], out[2])
    }

    /// y_rows += exp(S)·x_cols and y_cols += exp(S)ᵀ·x_rows against float64 loops over
    /// exp(Double(S)): within the exp bound of Σ|e·x| entrywise; ragged shapes (rows not a multiple
    /// of 8, cols not of 4) and a leading dimension larger than the rows; AVX2 = portable up to
    /// summation order (1e-14 relative).
    func testExpPanelProductMatchesFloat64Loops() {
        for (rows, cols, ld) in [(512, 512, 512), (37, 11, 40), (16, 4, 16), (8, 4, 8), (5, 3, 9), (1, 1, 1)] {
            let s = Reference.randomVector(count: ld * cols, seed: UInt64(rows * 7 + cols), stream: 1).map { Float(0.8 * $0) }
            let xRows = Reference.randomVector(count: rows, seed: 3, stream: 2), xCols = Reference.randomVector(count: cols, seed: 4, stream: 3)
            let start = Reference.randomVector(count: rows + cols, seed: 5, stream: 4)
            var yRows = Array(start[0..<rows]), yCols = Array(start[rows...])
            ExpPanelProduct.apply(s, ld: ld, rows: rows, cols: cols, xRows: xRows, xCols: xCols, yRows: &yRows, yCols: &yCols, transposedToo: true)
            var refRows = Array(start[0..<rows]), refCols = Array(start[rows...])
            var absRows = [Double](repeating: 0, count: rows), absCols = [Double](repeating: 0, count: cols)
            for c in 0..<cols { for r in 0..<rows {
                let e = Glibc.exp(Double(s[r + c * ld]))
                refRows[r] += e * xCols[c]; absRows[r] += abs(e * xCols[c])
                refCols[c] += e * xRows[r]; absCols[c] += abs(e * xRows[r])
            } }
            let bound = 2 * SingleExp.relativeErrorBound + 1e-14
            for r in 0..<rows { XCTAssertLessThanOrEqual(abs(yRows[r] - refRows[r]), bound * (absRows[r] + abs(start[r])), "\(rows)×\(cols) row \(r)") }
            for c in 0..<cols { XCTAssertLessThanOrEqual(abs(yCols[c] - refCols[c]), bound * (absCols[c] + abs(start[rows + c])), "\(rows)×\(cols) col \(c)") }
            // Every variant this CPU can run agrees with the chosen one up to summation order.
            typealias Kernel = (UnsafePointer<Float>?, Int, Int, Int, UnsafePointer<Double>?, UnsafePointer<Double>?,
                                UnsafeMutablePointer<Double>?, UnsafeMutablePointer<Double>?, Int32) -> Void
            var variants: [Kernel] = [tessera_exp_panel_product_portable]
            if VectorExp.useAVX2 { variants.append(tessera_exp_panel_product_avx2) }
            if OpenBLASRuntime.cpuHasAVX512 && VectorExp.useAVX2 { variants.append(tessera_exp_panel_product_avx512) }
            for kernel in variants {
                var pRows = Array(start[0..<rows]), pCols = Array(start[rows...])
                kernel(s, ld, rows, cols, xRows, xCols, &pRows, &pCols, 1)
                XCTAssertLessThanOrEqual(Reference.maxRelativeDifference(pRows, yRows), 1e-13)
                XCTAssertLessThanOrEqual(Reference.maxRelativeDifference(pCols, yCols), 1e-13)
            }
            // Without the transposed half, y_cols is left alone.
            var untouched = Array(start[rows...]), rowsOnly = Array(start[0..<rows])
            ExpPanelProduct.apply(s, ld: ld, rows: rows, cols: cols, xRows: xRows, xCols: xCols, yRows: &rowsOnly, yCols: &untouched, transposedToo: false)
            XCTAssertEqual(untouched, Array(start[rows...]))
            XCTAssertEqual(rowsOnly, yRows)
        }
    }
}
