import CMPI
import TesseraCore
import TesseraTiles

/// This process's place in an Open MPI job (`mpirun -np P …`): MPI is initialized once, with
/// errors returned as codes rather than aborting, and finalized by `finalize()`.
///
/// `joinIfLaunched()` initializes MPI only when the process was started by `mpirun` (Open MPI
/// sets `OMPI_COMM_WORLD_SIZE`), so a plain run never touches MPI. All MPI calls are made from
/// the thread that solves (MPI_THREAD_FUNNELED); the task graphs' workers never call MPI. Throws
/// `internalFailure` when MPI cannot be initialized. A rank that dies is noticed by `mpirun`,
/// which terminates the others; failures a rank survives are agreed (`MPIRowGroupExchange`).
public final class MPIWorld: Sendable {
    public let rank: Int
    public let size: Int

    private init(rank: Int, size: Int) {
        self.rank = rank
        self.size = size
    }

    /// True when the environment says this process is one rank of an Open MPI job.
    public static var launchedByMPI: Bool { ProcessEnvironment.value("OMPI_COMM_WORLD_SIZE") != nil }

    /// Joins the job when launched by `mpirun`; nil otherwise.
    public static func joinIfLaunched() throws(TesseraError) -> MPIWorld? {
        guard launchedByMPI else { return nil }
        var provided: Int32 = 0
        guard MPI_Init_thread(nil, nil, tessera_mpi_thread_funneled(), &provided) == tessera_mpi_success() else {
            throw .internalFailure("MPI_Init_thread failed")
        }
        let world = tessera_mpi_comm_world()
        _ = MPI_Comm_set_errhandler(world, tessera_mpi_errors_return())
        var rank: Int32 = 0, size: Int32 = 0
        _ = MPI_Comm_rank(world, &rank)
        _ = MPI_Comm_size(world, &size)
        return MPIWorld(rank: Int(rank), size: Int(size))
    }

    /// Ends MPI in this process (every process calls it once, after its last collective).
    public func finalize() {
        _ = MPI_Finalize()
    }
}
