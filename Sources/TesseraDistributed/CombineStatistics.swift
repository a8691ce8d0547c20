/// What one rank's cross-rank combinations cost: the number of reductions exchanged, the bytes
/// this rank received in them (the allgathered partials of other ranks, or the allreduced
/// vectors) and the seconds spent inside MPI calls (including waiting for slower ranks), for
/// `TESSERA_MPI_STATS` and the scaling benchmark.
public struct CombineStatistics: Sendable {
    public var exchanges = 0
    public var bytesReceived = 0
    /// The most bytes received in one exchange (an n-vector gathered would show here as ≈ 8n).
    public var largestExchangeBytes = 0
    public var seconds = 0.0
    /// The kernel product's ring shifts (`ringShift`): count, bytes received, and seconds blocked in
    /// them (posting and the final wait; not the tests made while a round computes). Also counted above.
    public var ringShifts = 0
    public var ringBytes = 0
    public var ringSeconds = 0.0
    /// Whether a failure was agreed by all ranks (then no further agreement is needed).
    public var agreedFailure = false

    public init() {}
}
