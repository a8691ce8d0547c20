import CTessera
import Tessera

/// How a `TesseraError` crosses the C boundary: a `tessera_status` and a one-line message in the
/// calling thread's last-error slot (`tessera_last_error`). No error ever crosses as a trap.
enum ABIStatus {
    static func code(for error: TesseraError) -> tessera_status {
        switch error {
        case .invalidArgument, .invalidInput, .io: return TESSERA_INVALID_ARGUMENT
        case .resourceLimit: return TESSERA_OUT_OF_MEMORY
        case .numerical, .rankDeficient: return TESSERA_NUMERICAL
        case .interrupted: return TESSERA_CANCELLED
        case .internalFailure: return TESSERA_INTERNAL
        }
    }

    /// Records `message` as this thread's last error.
    static func record(_ message: String) {
        message.withCString { tessera_internal_set_error($0) }
    }

    /// Runs an entry point's body: clears the last error, runs `body` with OpenBLAS
    /// single-threaded (the caller's setting is restored afterwards), and turns a thrown error
    /// into its status and message.
    static func entry(_ name: String, _ body: () throws(TesseraError) -> tessera_status) -> tessera_status {
        tessera_internal_set_error(nil)
        do {
            return try OpenBLASRuntime.singleThreaded { () throws(TesseraError) in try body() }
        } catch {
            record("\(name): \(error.message)")
            return code(for: error)
        }
    }

    /// `value`, or `.invalidArgument` naming the argument when it is nil.
    static func required<T>(_ value: T?, _ argument: String) throws(TesseraError) -> T {
        guard let value else { throw .invalidArgument("\(argument) is NULL") }
        return value
    }

    /// An Int64 size from C as an Int ≥ `minimum`, or `.invalidArgument` naming it.
    static func size(_ value: Int64, _ argument: String, atLeast minimum: Int64 = 1) throws(TesseraError) -> Int {
        guard value >= minimum, value <= Int64(Int32.max) * Int64(Int32.max) else {
            throw .invalidArgument("\(argument) is \(value); it must be at least \(minimum)")
        }
        return Int(value)
    }
}
