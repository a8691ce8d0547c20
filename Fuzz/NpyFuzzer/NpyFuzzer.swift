import TesseraCore
import TesseraIO

/// libFuzzer entry point for the `.npy` reader: any byte string must either parse into an array
/// whose values fill its shape, or be refused with a `TesseraError` — never crash, hang or read
/// out of bounds (the target is built with AddressSanitizer). See `scripts/fuzz.sh`.
@_cdecl("LLVMFuzzerTestOneInput")
public func npyFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    do {
        let array = try NpyArray(bytes: bytes, name: "fuzz.npy")
        let expected = array.shape.reduce(1, *)
        precondition(array.count == expected, "parsed \(array.count) values for shape \(array.shape)")
        _ = array.firstNonFiniteIndex()
    } catch {
        precondition(!error.message.isEmpty, "an error without a message")
    }
    return 0
}
