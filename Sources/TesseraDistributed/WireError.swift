import TesseraCore

/// A `TesseraError` as bytes for one process to send to the others: a kind code and the
/// message (UTF-8), or the signal number for `interrupted`. Decoding restores the same case and
/// message, so every process maps it to the same exit status. Decoding never traps: an unknown
/// kind becomes `internalFailure`.
enum WireError {
    static func encode(_ error: TesseraError) -> (kind: Int32, bytes: [UInt8]) {
        switch error {
        case .invalidArgument(let m): return (1, Array(m.utf8))
        case .invalidInput(let m): return (2, Array(m.utf8))
        case .io(let m): return (3, Array(m.utf8))
        case .numerical(let m): return (4, Array(m.utf8))
        case .rankDeficient(let m): return (5, Array(m.utf8))
        case .resourceLimit(let m): return (6, Array(m.utf8))
        case .internalFailure(let m): return (7, Array(m.utf8))
        case .interrupted(let signal): return (8, Array(String(signal).utf8))
        }
    }

    static func decode(kind: Int32, bytes: [UInt8]) -> TesseraError {
        let m = String(decoding: bytes, as: UTF8.self)
        switch kind {
        case 1: return .invalidArgument(m)
        case 2: return .invalidInput(m)
        case 3: return .io(m)
        case 4: return .numerical(m)
        case 5: return .rankDeficient(m)
        case 6: return .resourceLimit(m)
        case 8: return .interrupted(signal: Int32(m) ?? 15)
        default: return .internalFailure(m)
        }
    }
}
