import TesseraCore
import TesseraTiles

/// K + λI as an iteration sees it when its vectors are divided by rows among processes
/// (`RowPartition`): this process's rows of (K + λI)x from its rows of x
/// (`KernelOperator.applyRows`; the whole product in a single process). Costs and throws what the
/// kernel's product does; every process applies it at the same point.
public struct KernelRowsOperator: LinearOperator {
    public let kernel: KernelOperator
    public let partition: RowPartition

    public init(_ kernel: KernelOperator) {
        self.kernel = kernel
        partition = kernel.partition
    }

    public var dimension: Int { partition.rows.count }
    public func apply(_ x: [Double]) throws(TesseraError) -> [Double] { try kernel.applyRows(x) }
}

/// P⁻¹ = (FFᵀ + μI)⁻¹ (or with a diagonal shift) on this process's rows
/// (`WoodburyPreconditioner.applyRows`). Costs and throws what that does.
public struct WoodburyRowsPreconditioner: Preconditioner {
    public let woodbury: WoodburyPreconditioner
    public let partition: RowPartition

    public init(_ woodbury: WoodburyPreconditioner, partition: RowPartition) {
        self.woodbury = woodbury
        self.partition = partition
    }

    public func apply(_ r: [Double]) throws(TesseraError) -> [Double] { try woodbury.applyRows(r, partition: partition) }
}
