import TesseraCore
import TesseraIO
#if canImport(Glibc)
import Glibc
#endif

// libFuzzer target for the `.npy` reader: any byte string must either parse into an array whose
// values fill its shape, or be refused with a `TesseraError` that has a message — never crash,
// hang or read out of bounds (it is built with AddressSanitizer). Run it with `scripts/fuzz.sh`.
//
// SwiftPM renames an executable's `main`, so libFuzzer's own `main` is not used: this one hands
// the command line to `LLVMFuzzerRunDriver`, libFuzzer's documented entry for that case.

@_cdecl("LLVMFuzzerTestOneInput")
public func npyFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    do {
        let array = try NpyArray(bytes: bytes, name: "fuzz.npy")
        let expected = array.shape.reduce(1, *)
        precondition(array.count == expected, "parsed \(array.count) values for shape \(array.shape)")
        _ = array.withValues { values in values.reduce(0, +) }   // every value is readable
    } catch {
        precondition(!error.message.isEmpty, "an error without a message")
    }
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, npyFuzzerTestOneInput))
