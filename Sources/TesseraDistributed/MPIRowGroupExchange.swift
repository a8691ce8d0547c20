import CMPI
import TesseraCore
import TesseraTiles

/// `RowGroupExchange` over MPI_COMM_WORLD: the cross-rank combination of row-block reductions.
///
/// `deterministic` (the default): an integer `MPI_Allreduce` (MIN of the failing ranks) agrees on
/// failure, then `MPI_Allgatherv` gives every rank all G group partials, which the caller sums by
/// the fixed tree — the same bits for any rank count. Cost per reduction of m doubles: one
/// allgather receiving (G − G/P)·m doubles per rank (≈ G·m·8 bytes, G ≤ 64) plus the
/// 4-byte agreement. `allreduce` (for measuring what determinism costs, `TESSERA_MPI_COMBINE=
/// allreduce`): each rank sums its own groups in order and a plain `MPI_Allreduce` (SUM) of m
/// doubles combines ranks; its bits then depend on the rank count and on MPI's reduction order.
/// Throws `internalFailure` when an MPI call fails, `resourceLimit` when a message would exceed
/// MPI's 32-bit counts, and the agreed error of the lowest failing rank.
public final class MPIRowGroupExchange: RowGroupExchange {
    public enum Combine: String, Sendable { case deterministic, allreduce }

    public let rank: Int
    public let size: Int
    public let combine: Combine
    /// Exchanges made, bytes received and seconds spent in MPI calls by this rank.
    public let statistics = Locked(CombineStatistics())

    public init(world: MPIWorld, combine: Combine = .deterministic) {
        rank = world.rank
        size = world.size
        self.combine = combine
    }

    public func agree(failure: TesseraError?) throws(TesseraError) {
        let start = MPI_Wtime()
        defer { record(bytes: 0, seconds: MPI_Wtime() - start, exchange: false) }
        var mine = Int32(failure == nil ? size : rank), lowest = Int32(size)
        try check(MPI_Allreduce(&mine, &lowest, 1, tessera_mpi_int(), tessera_mpi_min(), tessera_mpi_comm_world()), "MPI_Allreduce")
        guard Int(lowest) < size else { return }
        // The lowest failing rank sends its error's kind, length and message to all.
        let encoded = failure.map(WireError.encode) ?? (kind: 0, bytes: [])
        var header: [Int32] = [encoded.kind, Int32(clamping: encoded.bytes.count)]
        try check(MPI_Bcast(&header, 2, tessera_mpi_int(), lowest, tessera_mpi_comm_world()), "MPI_Bcast")
        var message = Int(lowest) == rank ? encoded.bytes : [UInt8](repeating: 0, count: Int(max(0, header[1])))
        if !message.isEmpty {
            try check(MPI_Bcast(&message, Int32(message.count), tessera_mpi_byte(), lowest, tessera_mpi_comm_world()), "MPI_Bcast")
        }
        statistics.withLock { $0.agreedFailure = true }
        throw WireError.decode(kind: header[0], bytes: message)
    }

    public func allGather(owned: [Double], groupCount: Int, resultCount: Int,
                          failure: TesseraError?) throws(TesseraError) -> [Double] {
        try agree(failure: failure)
        let total = groupCount * resultCount
        guard total <= Int(Int32.max) else {
            throw .resourceLimit("a reduction of \(groupCount) partials of \(resultCount) values exceeds MPI's 32-bit message counts")
        }
        let start = MPI_Wtime()
        var out = [Double](repeating: 0, count: total)
        var send = owned
        switch combine {
        case .deterministic:
            var counts = [Int32](), displacements = [Int32]()
            for r in 0..<size {
                let groups = (r * groupCount / size)..<((r + 1) * groupCount / size)
                counts.append(Int32(groups.count * resultCount))
                displacements.append(Int32(groups.lowerBound * resultCount))
            }
            guard Int(counts[rank]) == send.count else {
                throw .internalFailure("rank \(rank) holds \(send.count) partial values, expected \(counts[rank])")
            }
            if send.isEmpty { send = [0] }
            try check(MPI_Allgatherv(&send, counts[rank], tessera_mpi_double(), &out, &counts, &displacements,
                                     tessera_mpi_double(), tessera_mpi_comm_world()), "MPI_Allgatherv")
            record(bytes: (total - Int(counts[rank])) * 8, seconds: MPI_Wtime() - start, exchange: true)
        case .allreduce:
            // Own groups summed in order, then one plain allreduce into partial 0 (the others stay
            // zero, so the caller's tree adds exact zeros).
            var local = [Double](repeating: 0, count: resultCount)
            var g = 0
            while (g + 1) * resultCount <= send.count {
                for i in 0..<resultCount { local[i] += send[g * resultCount + i] }
                g += 1
            }
            var sum = [Double](repeating: 0, count: resultCount)
            try check(MPI_Allreduce(&local, &sum, Int32(resultCount), tessera_mpi_double(), tessera_mpi_sum(),
                                    tessera_mpi_comm_world()), "MPI_Allreduce")
            for i in 0..<resultCount { out[i] = sum[i] }
            record(bytes: resultCount * 8, seconds: MPI_Wtime() - start, exchange: true)
        }
        return out
    }

    public func allGather(owned: [Double], counts: [Int], failure: TesseraError?) throws(TesseraError) -> [Double] {
        try agree(failure: failure)
        let total = counts.reduce(0, +)
        guard counts.count == size, total <= Int(Int32.max) else {
            throw .resourceLimit("an allgather of \(total) values exceeds MPI's 32-bit message counts")
        }
        guard counts[rank] == owned.count else {
            throw .internalFailure("rank \(rank) holds \(owned.count) values, expected \(counts[rank])")
        }
        let start = MPI_Wtime()
        var out = [Double](repeating: 0, count: total)
        var counts32 = counts.map { Int32($0) }
        var displacements = [Int32](), offset = 0
        for c in counts { displacements.append(Int32(offset)); offset += c }
        var send = owned.isEmpty ? [0] : owned
        try check(MPI_Allgatherv(&send, counts32[rank], tessera_mpi_double(), &out, &counts32, &displacements,
                                 tessera_mpi_double(), tessera_mpi_comm_world()), "MPI_Allgatherv")
        record(bytes: (total - counts[rank]) * 8, seconds: MPI_Wtime() - start, exchange: true)
        return out
    }

    public func ringShift(send: SharedBlock, count sendCount: Int, receive: SharedBlock, count receiveCount: Int,
                          during work: (_ progress: () -> Void) -> Void) throws(TesseraError) {
        guard sendCount <= Int(Int32.max), receiveCount <= Int(Int32.max) else {
            throw .resourceLimit("a ring message of \(max(sendCount, receiveCount)) values exceeds MPI's 32-bit counts; use more ranks")
        }
        guard sendCount <= send.storage.rows * send.storage.cols, receiveCount <= receive.storage.rows * receive.storage.cols else {
            throw .internalFailure("ringShift: a count exceeds its buffer")
        }
        let next = Int32((rank + 1) % size), previous = Int32((rank - 1 + size) % size)
        var requests = [MPI_Request?](repeating: nil, count: 2)
        var start = MPI_Wtime()
        try check(MPI_Irecv(receive.pointer, Int32(receiveCount), tessera_mpi_double(), previous, 7, tessera_mpi_comm_world(), &requests[0]), "MPI_Irecv")
        try check(MPI_Isend(send.pointer, Int32(sendCount), tessera_mpi_double(), next, 7, tessera_mpi_comm_world(), &requests[1]), "MPI_Isend")
        var inside = MPI_Wtime() - start
        // Open MPI moves a large message only inside MPI calls; testing now and then while the
        // round computes lets it travel then rather than at the wait (tests are not counted as
        // time blocked in MPI: the workers compute meanwhile).
        var flag: Int32 = 0
        work { _ = MPI_Testall(2, &requests, &flag, tessera_mpi_statuses_ignore()) }
        start = MPI_Wtime()
        try check(MPI_Waitall(2, &requests, tessera_mpi_statuses_ignore()), "MPI_Waitall")
        inside += MPI_Wtime() - start
        record(bytes: receiveCount * 8, seconds: inside, exchange: true)
        statistics.withLock {
            $0.ringShifts += 1
            $0.ringBytes += receiveCount * 8
            $0.ringSeconds += inside
        }
    }

    public func exchange(outgoing: [[Double]], incomingCounts: [Int], failure: TesseraError?) throws(TesseraError) -> [[Double]] {
        try agree(failure: failure)
        guard outgoing.count == size, incomingCounts.count == size else {
            throw .internalFailure("exchange: \(outgoing.count) outgoing and \(incomingCounts.count) incoming counts for \(size) ranks")
        }
        let sent = outgoing.reduce(0) { $0 + $1.count }, total = incomingCounts.reduce(0, +)
        guard sent <= Int(Int32.max), total <= Int(Int32.max) else {
            throw .resourceLimit("an exchange of \(max(sent, total)) values exceeds MPI's 32-bit counts; use more ranks")
        }
        let start = MPI_Wtime()
        var send = outgoing.flatMap { $0 }, receive = [Double](repeating: 0, count: max(total, 1))
        if send.isEmpty { send = [0] }
        var sendCounts = outgoing.map { Int32($0.count) }, receiveCounts = incomingCounts.map { Int32($0) }
        var sendOffsets = [Int32](), receiveOffsets = [Int32](), offset = 0
        for c in sendCounts { sendOffsets.append(Int32(offset)); offset += Int(c) }
        offset = 0
        for c in receiveCounts { receiveOffsets.append(Int32(offset)); offset += Int(c) }
        try check(MPI_Alltoallv(&send, &sendCounts, &sendOffsets, tessera_mpi_double(), &receive, &receiveCounts, &receiveOffsets,
                                tessera_mpi_double(), tessera_mpi_comm_world()), "MPI_Alltoallv")
        record(bytes: (total - incomingCounts[rank]) * 8, seconds: MPI_Wtime() - start, exchange: true)
        return (0..<size).map { q in Array(receive[Int(receiveOffsets[q])..<(Int(receiveOffsets[q]) + incomingCounts[q])]) }
    }

    private func record(bytes: Int, seconds: Double, exchange: Bool) {
        statistics.withLock {
            $0.seconds += seconds
            $0.bytesReceived += bytes
            $0.largestExchangeBytes = max($0.largestExchangeBytes, bytes)
            if exchange { $0.exchanges += 1 }
        }
    }

    private func check(_ code: Int32, _ call: String) throws(TesseraError) {
        guard code == tessera_mpi_success() else { throw .internalFailure("\(call) failed with MPI error \(code) on rank \(rank)") }
    }
}
