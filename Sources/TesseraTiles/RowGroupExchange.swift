import TesseraCore

/// Combines the group partials of a canonical row-block reduction across processes (MPI ranks),
/// so that a sum over A's rows gives the same bits on any number of processes.
///
/// Math: a reduction Σ_rows f is cut into G groups of canonical row blocks (`rowBlockGroups`,
/// fixed by (n, d) alone). Process r of P computes the partials of its groups
/// [⌊r·G/P⌋, ⌊(r+1)·G/P⌋) only; `allGather` gives every process all G partials in group order,
/// and each process then sums them by the same fixed binary tree (`TaskGraph.treeReductionPairs`)
/// as a single process does. Each partial is computed by the same operations wherever it runs, so
/// x has the same bits for any P. Cost per reduction: (G − G/P)·m doubles received per process
/// for a result of m doubles (an allgather), plus one integer allreduce that agrees on failure.
///
/// Failure: every process calls `allGather` (or `agree`) at the same points; a process whose tasks
/// failed passes its error, and every process then throws the error of the lowest-numbered failing
/// process (its message and kind), so all stop at the same place with the same exit status.
public protocol RowGroupExchange: Sendable {
    /// This process's index in [0, size).
    var rank: Int { get }
    /// Number of processes.
    var size: Int { get }
    /// All G partials (G·`resultCount` doubles, group order) from this process's `owned`
    /// partials (its groups' partials in group order), or throws the agreed failure.
    func allGather(owned: [Double], groupCount: Int, resultCount: Int,
                   failure: TesseraError?) throws(TesseraError) -> [Double]
    /// The whole vector (Σ counts values) from this process's `owned` slice: process r
    /// contributes `counts[r]` values, placed after those of processes 0..<r (an allgather of
    /// the rows of an n-vector each process computed). Throws the agreed failure.
    func allGather(owned: [Double], counts: [Int], failure: TesseraError?) throws(TesseraError) -> [Double]
    /// Agrees on an outcome without data: throws the lowest-numbered failing process's error on
    /// every process when any passed one; returns when none did.
    func agree(failure: TesseraError?) throws(TesseraError)
    /// One shift of a ring (`KernelRing`): sends the first `sendCount` doubles of `send` to process
    /// rank + 1 and receives `receiveCount` doubles from rank − 1 into `receive`, running `work`
    /// while the messages travel; `work` is handed a `progress` function to call now and then
    /// (it moves the messages along). No agreement on failure: every process makes the same number
    /// of shifts whatever its work did, and a later `exchange` or `allGather` agrees. Throws only
    /// when the transport fails or a count exceeds MPI's 32-bit counts.
    func ringShift(send: SharedBlock, count sendCount: Int, receive: SharedBlock, count receiveCount: Int,
                   during work: (_ progress: () -> Void) -> Void) throws(TesseraError)
    /// A personal exchange (all-to-all): process r receives `outgoing[r]` from every process, and
    /// returns what each process sent it, `incomingCounts[q]` doubles from process q (its own
    /// entry is its `outgoing[rank]`). Agrees on `failure` first. Its own 32-bit count check comes
    /// after the agreement and depends on this process's counts, so a caller must refuse messages
    /// beyond MPI's counts for every process before (`RingContributions` does).
    func exchange(outgoing: [[Double]], incomingCounts: [Int], failure: TesseraError?) throws(TesseraError) -> [[Double]]
}

extension RowGroupExchange {
    /// The groups of `count` this process computes: [⌊r·G/P⌋, ⌊(r+1)·G/P⌋) (whole contiguous
    /// groups; empty when P > G).
    public func ownedGroups(of count: Int) -> Range<Int> {
        Self.groups(of: count, rank: rank, size: size)
    }

    /// The groups of `count` that process `rank` of `size` computes.
    public static func groups(of count: Int, rank: Int, size: Int) -> Range<Int> {
        (rank * count / size)..<((rank + 1) * count / size)
    }
}
