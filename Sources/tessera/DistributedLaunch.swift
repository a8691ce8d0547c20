#if canImport(Glibc)
import Glibc
#endif
import Tessera
#if TESSERA_MPI
import TesseraDistributed
#endif

/// `tessera solve` as one rank of `mpirun -np P tessera solve …` (docs/DISTRIBUTED.md), or as a
/// plain process (rank 0 of 1) when not launched by `mpirun` or built without Open MPI.
///
/// Rank 0 alone prints, writes x and the report; every rank computes only its groups of each
/// row-block reduction (`Engine.distributed(over:)`). Failure: an error inside a reduction is
/// agreed there; any other error is agreed by `agree(_:)` at the end, so every rank leaves with
/// the same error (that of the lowest failing rank) and rank 0 prints it once. Throws
/// `invalidArgument` when launched by `mpirun` with P > 1 but built without MPI (the ranks would
/// each solve and write alone).
final class DistributedLaunch: Sendable {
    let rank: Int
    let size: Int
    #if TESSERA_MPI
    private let world: MPIWorld?
    private let exchange: MPIRowGroupExchange?
    #endif

    var isRoot: Bool { rank == 0 }

    init() throws(TesseraError) {
        #if TESSERA_MPI
        if let world = try MPIWorld.joinIfLaunched() {
            let combine = ProcessEnvironment.value("TESSERA_MPI_COMBINE").flatMap(MPIRowGroupExchange.Combine.init(rawValue:))
            StopWatchdog.reclaimFaultSignal()
            self.world = world
            exchange = MPIRowGroupExchange(world: world, combine: combine ?? .deterministic)
            rank = world.rank
            size = world.size
            return
        }
        world = nil
        exchange = nil
        #else
        if let text = ProcessEnvironment.value("OMPI_COMM_WORLD_SIZE"), let p = Int(text), p > 1 {
            throw .invalidArgument("this tessera was built without Open MPI, so it cannot run as one of \(p) mpirun ranks; install libopenmpi-dev (scripts/install-deps.sh) and rebuild")
        }
        #endif
        rank = 0
        size = 1
    }

    /// `engine`, distributed over the job's ranks when there are several. The plan (`auto`'s
    /// choice, the tile height) and the Gram panels depend on the worker and core counts, so every
    /// rank must have the same: throws `invalidArgument` on every rank when they differ.
    func engine(_ engine: Engine) throws(TesseraError) -> Engine {
        #if TESSERA_MPI
        if let exchange, exchange.size > 1 {
            let mine = [Double(engine.workerCount), Double(engine.profile.coreCount)]
            let all = try exchange.allGather(owned: mine, counts: Array(repeating: 2, count: exchange.size), failure: nil)
            let first = Array(all.prefix(2))
            for r in 1..<exchange.size where Array(all[(2 * r)..<(2 * r + 2)]) != first {
                throw .invalidArgument("rank \(r) has \(Int(all[2 * r])) threads on \(Int(all[2 * r + 1])) cores, rank 0 \(Int(first[0])) on \(Int(first[1])); run every rank on identical nodes with the same --threads (the plan and the bits depend on them)")
            }
            return engine.distributed(over: exchange)
        }
        #endif
        return engine
    }

    /// Runs `body` and agrees on its outcome with the other ranks: returns its value when no rank
    /// failed, else throws the lowest failing rank's error on every rank.
    func agreeing<T>(_ body: () throws(TesseraError) -> T) throws(TesseraError) -> T {
        let result: Result<T, TesseraError>
        do { result = .success(try body()) } catch { result = .failure(error) }
        #if TESSERA_MPI
        if let exchange, exchange.size > 1, !exchange.statistics.withLock({ $0.agreedFailure }) {
            if case .failure(let error) = result { try exchange.agree(failure: error) }
            try exchange.agree(failure: nil)
        }
        #endif
        return try result.get()
    }

    /// With `TESSERA_MPI_STATS=1`, rank 0 prints one line on stderr: reductions exchanged, bytes
    /// it received, seconds in MPI calls.
    func printStatistics() {
        #if TESSERA_MPI
        guard isRoot, ProcessEnvironment.value("TESSERA_MPI_STATS") == "1", let exchange else { return }
        let s = exchange.statistics.withLock { $0 }
        var stderr = StandardError()
        print("tessera-mpi: ranks \(size), combine \(exchange.combine.rawValue), exchanges \(s.exchanges), bytes received \(s.bytesReceived) (largest exchange \(s.largestExchangeBytes)), communication \(Format.sci3(s.seconds)) s; ring shifts \(s.ringShifts), bytes \(s.ringBytes), blocked \(Format.sci3(s.ringSeconds)) s", to: &stderr)
        #endif
    }

    /// Test hook `TESSERA_TEST_KILL_RANK=r`: rank r kills itself with SIGKILL before solving, so
    /// a test can check that the other ranks do not hang and nothing is written.
    func killIfTestAsks() {
        guard let text = ProcessEnvironment.value("TESSERA_TEST_KILL_RANK"), Int(text) == rank, size > 1 else { return }
        kill(getpid(), SIGKILL)
    }

    /// Ends MPI in this rank (after its last collective).
    func finish() {
        #if TESSERA_MPI
        world?.finalize()
        #endif
    }
}
