import XCTest
import Foundation

/// An input truncated by another process while `tessera` has it mapped: the read faults with
/// SIGBUS, and the CLI ends with one line naming the file, exit 2, and no output or temporary
/// left. Deterministic: `TESSERA_TEST_PAUSE_AFTER_MAP_MS` holds the CLI after mapping its inputs
/// and has it say so on stderr; the test waits for that line and truncates A.npy during the pause.
final class TruncatedInputTests: CLITestCase {
    /// Starts `solve gram` on a generated problem, paused after mapping; returns once A.npy is
    /// mapped (or fails the test).
    func startPausedSolve(_ dir: String) throws -> (Process, Pipe, Pipe) {
        XCTAssertEqual(try run(["generate", "gram", "--rows", "20000", "--cols", "8", "--output-dir", dir, "--quiet"]).status, 0)
        let started = try launch(["solve", "gram", "--matrix", dir + "/A.npy", "--rhs", dir + "/b.npy", "--output", dir + "/x.npy",
                                  "--report", dir + "/r.json"],
                                 environment: ["TESSERA_TEST_PAUSE_AFTER_MAP_MS": "3000"])
        // The hook says when the inputs are mapped (the pause starts then); reaching that point
        // may take long under a sanitizer, so the wait is generous.
        let marker = "tessera-test: inputs mapped\n"
        var seen = Data()
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let chunk = started.2.fileHandleForReading.availableData
            if chunk.isEmpty { break }                  // end of file: the process ended
            seen.append(chunk)
            if String(decoding: seen, as: UTF8.self).hasSuffix(marker) { return started }
        }
        XCTFail("the CLI never said its inputs were mapped")
        return started
    }

    func finish(_ started: (Process, Pipe, Pipe)) -> (status: Int32, stderr: String) {
        let (p, out, err) = started
        _ = out.fileHandleForReading.readDataToEndOfFile()
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, e)
    }

    func testTruncatedWhileMappedGivesOneLineExitTwoAndNothingWritten() throws {
        let dir = path("t")
        let started = try startPausedSolve(dir)
        XCTAssertEqual(truncate(dir + "/A.npy", 4096), 0)
        let r = finish(started)
        XCTAssertEqual(started.0.terminationReason, .exit, "ended by a signal: \(r.stderr)")
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertEqual(r.stderr, "tessera: error: \(dir)/A.npy was truncated while it was being read; nothing was written\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["A.npy", "b.npy", "x_true.npy"])
    }

    /// A SIGBUS that is no fault in a mapped input (here sent with kill): an internal-error line,
    /// exit 1, nothing written.
    func testSIGBUSOutsideAMappingIsAnInternalError() throws {
        let dir = path("k")
        let started = try startPausedSolve(dir)
        kill(started.0.processIdentifier, SIGBUS)
        let r = finish(started)
        XCTAssertEqual(started.0.terminationReason, .exit, r.stderr)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.hasPrefix("tessera: internal error: SIGBUS at address"), r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["A.npy", "b.npy", "x_true.npy"])
    }
}
