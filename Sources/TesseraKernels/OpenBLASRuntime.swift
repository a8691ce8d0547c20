import COpenBLAS
import TesseraCore

/// What the OpenBLAS library loaded in this process is, and how many threads it uses.
///
/// OpenBLAS picks its kernels ("core") in a constructor that runs before `main`, from cpuid.
/// On some virtual machines 0.3.21 misreads the CPU as an old core (`Prescott`) and runs DGEMM
/// about 5× slower; `OPENBLAS_CORETYPE` fixes that, but only when set before the library
/// loads. `recommendedCoreType()` detects the mismatch; the CLI re-executes itself with the
/// variable set, and library users are told what to export.
public enum OpenBLASRuntime {
    /// The kernel family OpenBLAS selected, e.g. "Haswell", "SkylakeX", "Zen", "Prescott".
    public static var coreName: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }

    /// The build configuration string (version, DYNAMIC_ARCH, MAX_THREADS, …).
    public static var configuration: String {
        guard let p = openblas_get_config() else { return "unknown" }
        return String(cString: p).trimmingCharacters(in: " ")
    }

    /// OpenBLAS's own thread count.
    public static var threadCount: Int { Int(openblas_get_num_threads()) }

    /// Sets OpenBLAS's own thread count (process-wide). Tessera runs BLAS single-threaded
    /// inside tile tasks; the parallelism comes from the task graph.
    public static func setThreadCount(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }

    /// Runs `body` with OpenBLAS single-threaded, then gives the caller back its own setting: the
    /// first of any number of overlapping calls (on any threads) saves the thread count and sets
    /// 1, the last one to finish restores the saved count. For a library entry point (the C
    /// interface), so that a host program's own OpenBLAS setting is not changed behind its back
    /// between calls. Cost: a lock around two counter updates.
    public static func singleThreaded<R>(_ body: () throws(TesseraError) -> R) throws(TesseraError) -> R {
        scope.withLock { state in
            if state.active == 0 {
                state.saved = threadCount
                setThreadCount(1)
            }
            state.active += 1
        }
        defer {
            scope.withLock { state in
                state.active -= 1
                if state.active == 0 { setThreadCount(state.saved) }
            }
        }
        return try body()
    }

    private struct Scope { var active = 0; var saved = 1 }
    private static let scope = Locked(Scope())

    /// Core names that mean "generic or pre-AVX2": slow kernels on a modern CPU.
    static let oldCores: Set<String> = ["prescott", "core2", "katmai", "coppermine", "northwood",
                                        "banias", "atom", "penryn", "dunnington", "nehalem",
                                        "opteron", "opteron_sse3", "barcelona", "generic", "unknown"]

    /// CPU capabilities as cpuid reports them.
    public static var cpuHasAVX512: Bool { tessera_cpu_has_avx512f() != 0 }
    public static var cpuHasAVX2FMA: Bool { tessera_cpu_has_avx2_fma() != 0 }

    /// The `OPENBLAS_CORETYPE` value that would select fast kernels, when the detected core is
    /// old/generic but the CPU has AVX-512 (→ "SkylakeX") or AVX2+FMA (→ "Haswell"); nil when
    /// the detected core is already fine.
    public static func recommendedCoreType(detected: String = coreName,
                                           avx512: Bool = cpuHasAVX512,
                                           avx2fma: Bool = cpuHasAVX2FMA) -> String? {
        guard oldCores.contains(detected.lowercased()) else { return nil }
        if avx512 { return "SkylakeX" }
        if avx2fma { return "Haswell" }
        return nil
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
