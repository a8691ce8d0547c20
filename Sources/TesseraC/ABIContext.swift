import CTessera
import Tessera

/// A context: the engine (worker pool, placement) that plans and solves run on. Immutable, so
/// any number of threads may use one. Held by the C side as an opaque `tessera_context *`
/// (a retained reference), released by `tessera_context_destroy`.
final class ABIContext: Sendable {
    let engine: Engine

    init(threads: Int?) throws(TesseraError) {
        engine = try Engine(threads: threads, setsBLASThreads: false)
    }

    static func from(_ pointer: OpaquePointer?) throws(TesseraError) -> ABIContext {
        guard let pointer else { throw .invalidArgument("context is NULL") }
        return Unmanaged<ABIContext>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }

    /// The worker count: the argument when positive, else `TESSERA_NUM_THREADS`, else the cores.
    static func threadCount(_ requested: Int32) throws(TesseraError) -> Int? {
        if requested > 0 { return Int(requested) }
        guard requested == 0 else { throw .invalidArgument("threads is \(requested); pass a positive count or 0 for the default") }
        guard let text = ProcessEnvironment.value("TESSERA_NUM_THREADS"), !text.isEmpty else { return nil }
        guard let n = Int(text), n >= 1, n <= 4096 else {
            throw .invalidArgument("TESSERA_NUM_THREADS is '\(text)'; set it to a thread count from 1 to 4096, or unset it")
        }
        return n
    }
}

@c @implementation
public func tessera_abi_version() -> Int32 { TESSERA_ABI_VERSION }

@c @implementation
public func tessera_context_create(_ threads: Int32, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> tessera_status {
    ABIStatus.entry("tessera_context_create") { () throws(TesseraError) in
        let out = try ABIStatus.required(out, "out")
        out.pointee = nil
        let context = try ABIContext(threads: ABIContext.threadCount(threads))
        out.pointee = OpaquePointer(Unmanaged.passRetained(context).toOpaque())
        return TESSERA_OK
    }
}

@c @implementation
public func tessera_context_threads(_ context: OpaquePointer?) -> Int32 {
    guard let context = try? ABIContext.from(context) else { return 0 }
    return Int32(clamping: context.engine.workerCount)
}

@c @implementation
public func tessera_context_destroy(_ context: OpaquePointer?) {
    guard let context else { return }
    Unmanaged<ABIContext>.fromOpaque(UnsafeRawPointer(context)).release()
}
