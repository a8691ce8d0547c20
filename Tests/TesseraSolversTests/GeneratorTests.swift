import XCTest
import Tessera

/// `ProblemGenerator`: A has exactly the prescribed singular values and b the known solution,
/// whatever the tile size and thread count (A is streamed over canonical blocks), including a
/// nearly square A whose Gaussian factor needs the refinement pass.
final class GeneratorTests: XCTestCase {
    /// Eigenvalues of AᵀA, ascending (Jacobi on the tiled Gram matrix).
    func squaredSingularValues(_ a: TiledMatrix, engine: Engine) throws -> [Double] {
        SymmetricEigenvalues.jacobi(try a.gram(engine: engine), order: a.cols).sorted()
    }

    func testSingularValuesAndKnownSolutions() throws {
        let engine = try Engine(threads: 2)
        for (n, d, kappa) in [(3_000, 12, 100.0), (40, 38, 1e3), (20_000, 3, 10.0)] {
            for problem in [TallProblem.gram, .lstsq] {
                let j = 1
                let p = try ProblemGenerator.make(problem, rows: n, cols: d, condition: kappa, power: j, seed: 3, engine: engine)
                let sigma2 = p.singularValues.map { $0 * $0 }.sorted()
                for (got, want) in zip(try squaredSingularValues(p.matrix, engine: engine), sigma2) {
                    XCTAssertEqual(got, want, accuracy: 1e-12 * want + 1e-15, "\(problem) \(n)×\(d)")
                }
                let gram = try p.matrix.gram(engine: engine)
                func gramTimes(_ v: [Double]) -> [Double] { (0..<d).map { i in (0..<d).reduce(0.0) { $0 + gram[i + $1 * d] * v[$1] } } }
                switch problem {
                case .gram:   // (AᵀA)^j x* = b
                    let residual = gramTimes(p.solution).plus(-1, p.rhs).norm2 / p.rhs.norm2
                    XCTAssertLessThan(residual, 1e-12, "gram \(n)×\(d)")
                case .lstsq:  // Aᵀ(A(AᵀA)^j x* − b) = 0: x* is the minimizer
                    let ax = try p.matrix.multiply(gramTimes(p.solution), engine: engine).toArray()
                    let r = ax.plus(-1, p.rhs)
                    let atr = try p.matrix.transposeMultiply(TiledVector(r, layout: p.matrix.layout, engine: engine), engine: engine)
                    XCTAssertLessThan(atr.norm2 / r.norm2, 1e-12, "lstsq \(n)×\(d)")
                    XCTAssertGreaterThan(r.norm2, 0.3 * p.rhs.norm2, "the optimal residual is not zero")
                }
            }
        }
    }

    func testSameBitsForAnyTileSizeAndThreadCount() throws {
        var reference: [UInt64]?
        var rhs: [UInt64]?
        for (threads, tileRows) in [(1, 3_000), (2, 256), (3, 1_000)] {
            let engine = try Engine(threads: threads)
            let p = try ProblemGenerator.make(.lstsq, rows: 30_000, cols: 9, condition: 1e4, power: 1, seed: 11, engine: engine, tileRows: tileRows)
            let bits = p.matrix.toColumnMajorArray().map(\.bitPattern), b = p.rhs.map(\.bitPattern)
            if let reference, let rhs {
                XCTAssertEqual(bits, reference, "\(threads) threads, \(tileRows) rows per tile")
                XCTAssertEqual(b, rhs)
            } else {
                reference = bits
                rhs = b
            }
        }
    }
}
