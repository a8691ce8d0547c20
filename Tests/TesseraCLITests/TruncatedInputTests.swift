import XCTest
import Foundation

/// An input truncated by another process while `tessera` has it mapped: the read faults with
/// SIGBUS, and the CLI ends with one line naming the file, exit 2, and no output or temporary
/// left. Deterministic: `TESSERA_TEST_PAUSE_AFTER_MAP_MS` holds the CLI after mapping its inputs,
/// the test waits until A.npy shows in /proc/PID/maps and truncates it during the pause.
final class TruncatedInputTests: CLITestCase {
    /// Starts `solve gram` on a generated problem, paused after mapping; returns once A.npy is
    /// mapped (or fails the test).
    func startPausedSolve(_ dir: String) throws -> (Process, Pipe, Pipe) {
        XCTAssertEqual(try run(["generate", "gram", "--rows", "20000", "--cols", "8", "--output-dir", dir, "--quiet"]).status, 0)
        let started = try launch(["solve", "gram", "--matrix", dir + "/A.npy", "--rhs", dir + "/b.npy", "--output", dir + "/x.npy",
                                  "--report", dir + "/r.json"],
                                 environment: ["TESSERA_TEST_PAUSE_AFTER_MAP_MS": "3000"])
        let maps = "/proc/\(started.0.processIdentifier)/maps"
        // The pause starts once the inputs are mapped; reaching that point may take long under a
        // sanitizer, so the wait for the mapping is generous (the pause only has to outlast the
        // 10 ms polling step below).
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: maps, encoding: .utf8), text.contains("/A.npy") { return started }
            Thread.sleep(forTimeInterval: 0.01)
        }
        XCTFail("A.npy was never mapped")
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
