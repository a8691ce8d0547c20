import XCTest
import TesseraCore

/// Asserts that `expression` throws a `TesseraError` whose one-line message contains every one
/// of `fragments` (so a test names the cause it expects, and an unrelated failure cannot pass).
public func XCTAssertThrowsTesseraError<T>(_ expression: @autoclosure () throws -> T, _ fragments: String...,
                                           file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try expression(), file: file, line: line) { error in
        guard let tessera = error as? TesseraError else {
            return XCTFail("threw \(error), not a TesseraError", file: file, line: line)
        }
        for fragment in fragments where !tessera.message.contains(fragment) {
            XCTFail("the message \"\(tessera.message)\" does not name \"\(fragment)\"", file: file, line: line)
        }
    }
}
