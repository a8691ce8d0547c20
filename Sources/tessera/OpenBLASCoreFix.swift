import Tessera
#if canImport(Glibc)
import Glibc
#endif

/// OpenBLAS reads `OPENBLAS_CORETYPE` in its library constructor, before `main`, so setting it
/// in-process is too late. When the detected core is an old generic one on a CPU with AVX2 or
/// AVX-512, the CLI re-executes itself once with the variable set. A value the user exported is
/// never overridden, and `TESSERA_COREFIX_DONE` guards against a loop.
/// `TESSERA_TEST_DETECTED_CORE` pretends OpenBLAS detected another core (for the tests only).
enum OpenBLASCoreFix {
    static func reexecuteIfNeeded() {
        let detected = getenv("TESSERA_TEST_DETECTED_CORE").map { String(cString: $0) } ?? OpenBLASRuntime.coreName
        guard getenv("OPENBLAS_CORETYPE") == nil, getenv("TESSERA_COREFIX_DONE") == nil,
              let core = OpenBLASRuntime.recommendedCoreType(detected: detected) else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv("TESSERA_COREFIX_DONE", core, 1)
        unsetenv("TESSERA_TEST_DETECTED_CORE")
        var argv: [UnsafeMutablePointer<CChar>?] = CommandLine.arguments.map { strdup($0) }
        argv.append(nil)
        execv("/proc/self/exe", argv)
        // exec failed: carry on with the slow kernels, and say so.
        var err = StandardError()
        print("tessera: warning: OpenBLAS chose slow '\(OpenBLASRuntime.coreName)' kernels; export OPENBLAS_CORETYPE=\(core) for full speed", to: &err)
    }
}

extension OpenBLASCoreFix {
    /// The core type this process was re-executed with, if it was.
    static var appliedCoreType: String? {
        guard getenv("TESSERA_COREFIX_DONE") != nil, let v = getenv("OPENBLAS_CORETYPE") else { return nil }
        return String(cString: v)
    }
}
