import TesseraCore
import TesseraKernels
import TesseraTiles

/// The inner product an iteration uses on its vectors: Euclidean on whole vectors
/// (`EuclideanProducts`, BLAS), or summed over rows held by several processes (`RowPartition`,
/// a fixed tree over A's tiles: the same bits on any number of processes). Every process calls
/// each method at the same point of the iteration; throws only the agreed failure of an exchange.
public protocol InnerProducts {
    func dot(_ a: [Double], _ b: [Double]) throws(TesseraError) -> Double
    func norm2(_ a: [Double]) throws(TesseraError) -> Double
}

/// ⟨a, b⟩ and ‖a‖₂ of whole vectors (BLAS ddot; dnrm2 without overflow).
public struct EuclideanProducts: InnerProducts {
    public init() {}
    public func dot(_ a: [Double], _ b: [Double]) -> Double { a.dot(b) }
    public func norm2(_ a: [Double]) -> Double { a.norm2 }
}

extension RowPartition: InnerProducts {}
