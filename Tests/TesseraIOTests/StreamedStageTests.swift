import XCTest
import Foundation
import Tessera
@testable import TesseraIO

/// `AtomicFileGroup.stage(path:_:)`: a file written in pieces (at offsets, from several threads)
/// is committed with the group's other files, and a failure leaves nothing.
final class StreamedStageTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "tessera-stream-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    func path(_ name: String) -> String { directory + "/" + name }

    /// Legal names at the limit (245 to 255 bytes, ASCII and multi-byte) are written: the
    /// temporary's suffix never pushes its name past 255 bytes. A 256-byte name is the system's
    /// own refusal, and leaves nothing.
    func testOutputNamesUpToTheLimitAreWritten() throws {
        for length in [245, 250, 255] {
            let name = String(repeating: "n", count: length - 4) + ".npy"
            try NpyWriter.write([1, 2, 3], shape: [3], to: path(name))
            XCTAssertEqual(try NpyArray(path: path(name)).toArray(), [1, 2, 3], "\(length) bytes")
            let multibyte = String(repeating: "é", count: (length - 4) / 2) + String(repeating: "x", count: (length - 4) % 2) + ".npy"
            XCTAssertEqual(multibyte.utf8.count, length)
            try NpyWriter.write([4], shape: [1], to: path(multibyte))
            XCTAssertEqual(try NpyArray(path: path(multibyte)).toArray(), [4], "\(length) bytes, multi-byte")
        }
        XCTAssertThrowsError(try NpyWriter.write([1], shape: [1], to: path(String(repeating: "z", count: 252) + ".npy"))) {
            XCTAssertTrue(($0 as? TesseraError)?.message.contains("File name too long") ?? false, "\($0)")
        }
        XCTAssertTrue(try FileManager.default.contentsOfDirectory(atPath: directory).allSatisfy { !$0.contains(".tmp-") })
    }

    func testPiecesWrittenOutOfOrderFromManyThreadsCommitTogether() throws {
        let n = 1_000, d = 7
        let group = AtomicFileGroup()
        try group.stage(path: path("A.npy")) { (file) throws(TesseraError) in
            let sink = try NpyRowSink(file: file, rows: n, cols: d)
            let failures = Locked<[TesseraError]>([])
            DispatchQueue.concurrentPerform(iterations: 10) { k in
                let block = 9 - k   // last block first
                let rows = (block * 100)..<((block + 1) * 100)
                let values = rows.flatMap { r in (0..<d).map { Double(r * d + $0) } }
                do throws(TesseraError) {
                    try values.withUnsafeBufferPointer { (v) throws(TesseraError) in try sink.write(rows: rows, rowMajor: v.baseAddress!) }
                } catch { failures.withLock { $0.append(error) } }
            }
            XCTAssertEqual(failures.withLock { $0.count }, 0)
            XCTAssertFalse(FileManager.default.fileExists(atPath: self.path("A.npy")), "nothing appears before commit")
        }
        try group.stage(text: "report", to: path("r.txt"))
        try group.commit()
        let a = try NpyArray(path: path("A.npy"))
        XCTAssertEqual(a.shape, [n, d])
        XCTAssertEqual(a.toArray(), (0..<(n * d)).map(Double.init))
        let size = try FileManager.default.attributesOfItem(atPath: path("A.npy"))[.size] as? Int
        XCTAssertEqual(size, a.header.dataOffset + n * d * 8)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory).sorted(), ["A.npy", "r.txt"])
    }

    func testAFailingBodyOrAFullDeviceLeavesNothing() throws {
        let group = AtomicFileGroup()
        try group.stage(text: "first", to: path("first.txt"))
        XCTAssertThrowsError(try group.stage(path: path("A.npy")) { (file) throws(TesseraError) in
            try file.write([1, 2, 3], at: 0)
            throw .io("cannot write \(file.path): simulated")
        })
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), [], "the failure discards the whole group")
        XCTAssertTrue(TemporaryFiles.registered.filter { $0.hasPrefix(directory) }.isEmpty)

        // A.npy as a link to /dev/full: the write error is reported, nothing is left.
        try FileManager.default.createSymbolicLink(atPath: path("A.npy"), withDestinationPath: "/dev/full")
        let full = AtomicFileGroup()
        do {
            try full.stage(path: path("A.npy")) { (file) throws(TesseraError) in
                let sink = try NpyRowSink(file: file, rows: 10, cols: 2)
                try [Double](repeating: 1, count: 20).withUnsafeBufferPointer { (v) throws(TesseraError) in
                    try sink.write(rows: 0..<10, rowMajor: v.baseAddress!)
                }
            }
            XCTFail("writing /dev/full must fail")
        } catch {
            XCTAssertTrue(error.message.contains("No space left on device"), error.message)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["A.npy"])

        // A FIFO cannot take pieces at offsets: refused before anything is written.
        XCTAssertEqual(mkfifo(path("fifo"), 0o600), 0)
        XCTAssertThrowsError(try AtomicFileGroup().stage(path: path("fifo")) { (_: StreamedFile) throws(TesseraError) in }) {
            XCTAssertTrue(($0 as? TesseraError)?.message.contains("it is a FIFO") ?? false, "\($0)")
        }
    }

    /// A tiled matrix streamed to a file tile by tile reads back as the same matrix.
    func testTiledMatrixStreamsToCOrder() throws {
        let engine = try Engine(threads: 2)
        let layout = try TileLayout(rows: 103, cols: 5, tileRows: 16)
        let m = try TiledMatrix(layout: layout, engine: engine) { r, c in Double(r * 10 + c) }
        try NpyWriter.write(m, to: path("m.npy"))
        let back = try TiledMatrix.load(NpyArray(path: path("m.npy")), tileRows: 40, engine: engine)
        XCTAssertEqual(back.toColumnMajorArray(), m.toColumnMajorArray())
        XCTAssertEqual(try NpyArray(path: path("m.npy")).toArray(), (0..<103).flatMap { r in (0..<5).map { Double(r * 10 + $0) } })
    }
}
