import TesseraCore
import TesseraKernels

/// A symmetric linear operator y = Mx on ℝ^dimension, as the iterative methods see it: AᵀA
/// (`GramOperator`), K + λI (`KernelOperator`), or any closure (`FunctionOperator`). An
/// application may throw (`.interrupted`, resource errors); its cost is the implementer's.
public protocol LinearOperator {
    var dimension: Int { get }
    func apply(_ x: [Double]) throws(TesseraError) -> [Double]
}

/// An approximate inverse z = P⁻¹r applied inside an iteration: (RᵀR)⁻¹ for a triangular factor
/// (`NormalEquationsPreconditioner`), Woodbury for a low-rank factor, or the identity.
public protocol Preconditioner {
    func apply(_ r: [Double]) throws(TesseraError) -> [Double]
}

/// A rectangular operator A ∈ ℝ^{rows×cols} with products by A and Aᵀ (LSQR's view of A).
public protocol RectangularOperator {
    var rows: Int { get }
    var cols: Int { get }
    func apply(_ x: [Double]) throws(TesseraError) -> [Double]
    func applyTransposed(_ u: [Double]) throws(TesseraError) -> [Double]
    /// ‖u‖₂ for u ∈ ℝ^rows (a vector the operator may hold distributed by rows).
    func rowNorm(_ u: [Double]) throws(TesseraError) -> Double
}

/// A right preconditioner R for a least-squares iteration on A·R⁻¹: solves with R and Rᵀ in place.
public protocol RightPreconditioner {
    func solve(_ x: inout [Double])
    func solveTransposed(_ x: inout [Double])
}

extension TallOperator: RectangularOperator {}
extension UpperTriangular: RightPreconditioner {}

/// A linear operator given by a closure (tests, adapters).
public struct FunctionOperator: LinearOperator {
    public let dimension: Int
    let body: ([Double]) throws(TesseraError) -> [Double]

    public init(dimension: Int, _ body: @escaping ([Double]) throws(TesseraError) -> [Double]) {
        self.dimension = dimension
        self.body = body
    }

    public func apply(_ x: [Double]) throws(TesseraError) -> [Double] { try body(x) }
}

/// A preconditioner given by a closure.
public struct FunctionPreconditioner: Preconditioner {
    let body: ([Double]) throws(TesseraError) -> [Double]

    public init(_ body: @escaping ([Double]) throws(TesseraError) -> [Double]) { self.body = body }

    public func apply(_ r: [Double]) throws(TesseraError) -> [Double] { try body(r) }
}

/// P = I.
public struct IdentityPreconditioner: Preconditioner {
    public init() {}
    public func apply(_ r: [Double]) throws(TesseraError) -> [Double] { r }
}

/// P⁻¹ = (RᵀR)⁻¹ = R⁻¹R⁻ᵀ for a triangular factor R of A (two triangular solves, 2d² flops).
public struct NormalEquationsPreconditioner: Preconditioner {
    public let factor: UpperTriangular

    public init(_ factor: UpperTriangular) { self.factor = factor }

    public func apply(_ r: [Double]) throws(TesseraError) -> [Double] {
        var z = r
        factor.solveNormal(&z)
        return z
    }
}

extension KernelOperator: LinearOperator {
    public var dimension: Int { order }
}

extension WoodburyPreconditioner: Preconditioner {}
