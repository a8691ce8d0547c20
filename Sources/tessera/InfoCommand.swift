import ArgumentParser
import Tessera

/// `tessera info`: the machine as Tessera sees it and the choices it would make.
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the topology, the OpenBLAS build and core, and the tile size Tessera would pick.")

    @Option(parsing: .unconditional, help: "Rows of the example matrix for the tile-size choice.")
    var rows = 1_000_000

    @Option(parsing: .unconditional, help: "Columns of the example matrix for the tile-size choice.")
    var cols = 256

    @Option(parsing: .unconditional, help: "Worker threads (default: one per core).")
    var threads: Int?

    @Option(help: "Describe a synthetic hwloc topology instead of this machine, e.g. \"pack:2 numa:2 core:4 pu:1\".")
    var synthetic: String?

    func run() throws {
        try CLIErrors.reporting { () throws(TesseraError) in
            try Preflight.info(rows: rows, cols: cols)
            let profile: MachineProfile
            if let synthetic { profile = try MachineProfile.synthetic(synthetic) } else { profile = try MachineProfile.current() }
            let engine = try Engine(threads: threads, profile: profile)
            print(Self.describe(engine: engine, rows: rows, cols: cols))
        }
    }

    static func describe(engine: Engine, rows: Int, cols: Int) -> String {
        let p = engine.profile
        var lines: [String] = []
        lines.append("Tessera \(TesseraCommand.version)")
        lines.append("machine: \(p.isSynthetic ? "synthetic, " : "")\(p.domainCount) NUMA domain(s), \(p.coreCount) cores; "
                     + "caches L1d \(kib(p.caches.l1d)), L2 \(kib(p.caches.l2)), L3 \(kib(p.caches.l3))")
        for d in p.domains {
            let mem = d.localMemoryBytes > 0 ? Format.fixed(Double(d.localMemoryBytes) / 1_073_741_824, 1) + " GiB" : "memory unknown"
            lines.append("  domain \(d.index) (os node \(d.osIndex)): \(d.coreCount) cores, \(d.processingUnitCount) PUs, \(mem)")
        }
        lines.append("placement: " + (p.placementMatters ? "threads bound per task drain, tiles bound with hwloc membind"
                                                          : "single domain or synthetic: no binding needed"))
        let simd = OpenBLASRuntime.cpuHasAVX512 ? "AVX-512" : (OpenBLASRuntime.cpuHasAVX2FMA ? "AVX2+FMA" : "no AVX2")
        lines.append("OpenBLAS: \(OpenBLASRuntime.configuration)")
        var coreLine = "OpenBLAS core: \(OpenBLASRuntime.coreName) (CPU has \(simd))"
        if let fix = OpenBLASRuntime.recommendedCoreType() { coreLine += "; slow kernels: export OPENBLAS_CORETYPE=\(fix)" }
        if let applied = OpenBLASCoreFix.appliedCoreType { coreLine += "; tessera re-executed itself with OPENBLAS_CORETYPE=\(applied)" }
        lines.append(coreLine)
        lines.append("BLAS threads inside tasks: \(OpenBLASRuntime.threadCount); workers: \(engine.workerCount)")
        lines.append("tile rows for \(rows) × \(cols): \(engine.recommendedTileRows(rows: rows, cols: cols))")
        return lines.joined(separator: "\n")
    }

    static func kib(_ bytes: Int) -> String {
        bytes <= 0 ? "?" : (bytes >= 1 << 20 ? "\(bytes >> 20) MiB" : "\(bytes >> 10) KiB")
    }
}
