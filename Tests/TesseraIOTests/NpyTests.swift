import XCTest
import Foundation
import Tessera
@testable import TesseraIO

final class NpyTests: XCTestCase {
    var directory: String = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "tessera-npy-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    func path(_ name: String) -> String { directory + "/" + name }

    /// A .npy file with a hand-written header dictionary and raw data bytes.
    func writeRaw(_ name: String, dict: String, data: [UInt8], version: UInt8 = 1) throws -> String {
        var header = dict
        let prefix = version == 1 ? 10 : 12
        let total = (prefix + header.utf8.count + 1 + 63) / 64 * 64
        header += String(repeating: " ", count: total - prefix - header.utf8.count - 1) + "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
        let n = header.utf8.count
        bytes += version == 1 ? [UInt8(n & 0xFF), UInt8(n >> 8)] : [UInt8(n & 0xFF), UInt8(n >> 8), 0, 0]
        bytes += Array(header.utf8) + data
        try Data(bytes).write(to: URL(fileURLWithPath: path(name)))
        return path(name)
    }

    func doubles(_ v: [Double]) -> [UInt8] { v.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) } }

    func message(_ body: () throws -> Void) -> String {
        do { try body(); return "no error" } catch let e as TesseraError { return e.message } catch { return "\(error)" }
    }

    func testRoundTripCAndFortranOrder() throws {
        let values = (0..<12).map { Double($0) * 0.5 - 1 }
        try NpyWriter.write(values, shape: [4, 3], to: path("c.npy"))
        let c = try NpyArray(path: path("c.npy"))
        XCTAssertEqual(c.shape, [4, 3])
        XCTAssertFalse(c.fortranOrder)
        XCTAssertEqual(c.toArray(), values)
        XCTAssertNil(c.conversionNote)
        try NpyWriter.write(values, shape: [4, 3], fortranOrder: true, to: path("f.npy"))
        let f = try NpyArray(path: path("f.npy"))
        XCTAssertTrue(f.fortranOrder)
        XCTAssertEqual(f.toArray(), values)
        try NpyWriter.write([1, 2, 3], shape: [3], to: path("v.npy"))
        XCTAssertEqual(try NpyArray(path: path("v.npy")).shape, [3])
    }

    func testFloat32AndIntegersAreConvertedWithANote() throws {
        let f32 = [Float(1.5), -2.25].flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
        let a = try NpyArray(path: writeRaw("f4.npy", dict: "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", data: f32))
        XCTAssertEqual(a.toArray(), [1.5, -2.25])
        XCTAssertTrue(a.conversionNote?.contains("float32") ?? false)
        let i8 = [Int64(-3), 7].flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) }
        let b = try NpyArray(path: writeRaw("i8.npy", dict: "{'descr': '<i8', 'fortran_order': False, 'shape': (1, 2), }", data: i8))
        XCTAssertEqual(b.toArray(), [-3, 7])
        let u1 = try NpyArray(path: writeRaw("u1.npy", dict: "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }", data: [0, 200, 255]))
        XCTAssertEqual(u1.toArray(), [0, 200, 255])
    }

    /// The header is read as the Python literal NumPy reads: every dtype spelling `numpy.load`
    /// accepts for float64 ('f8', '<d', 'd', '=f8', 'float64', 'double', double quotes, extra
    /// spaces, Python 2 longs) gives the same values; and what NumPy refuses or would read
    /// differently is refused with a message that names it — a key given twice (NumPy takes the
    /// last), a key inside another key's string value, an unknown key, control bytes (escaped
    /// in the message, never echoed raw).
    func testHeaderIsReadAsThePythonLiteralNumPyReads() throws {
        let good = doubles([1, 2, 3, 4, 5, 6])
        let spellings = ["'f8'", "'<d'", "'d'", "'=f8'", "'float64'", "'double'", "\"<f8\""]
        for (k, descr) in spellings.enumerated() {
            let f = try writeRaw("s\(k).npy", dict: "{ 'descr' :\(descr) ,'fortran_order':False,'shape':(3L, 2L)}", data: good)
            let a = try NpyArray(path: f)
            XCTAssertEqual(a.shape, [3, 2], descr)
            XCTAssertEqual(a.toArray(), [1, 2, 3, 4, 5, 6], descr)
        }
        let twice = try writeRaw("twice.npy", dict: "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), 'shape': (6,), }", data: good)
        XCTAssertTrue(message { _ = try NpyArray(path: twice) }.contains("the key 'shape' is given twice"))
        let hidden = try writeRaw("hidden.npy", dict: "{'fortran_order': False, 'shape': (6,), 'note': \"'descr': '<f8'\", }", data: good)
        XCTAssertTrue(message { _ = try NpyArray(path: hidden) }.contains("unexpected key 'note'"))
        let noDescr = try writeRaw("nodescr.npy", dict: "{'fortran_order': False, 'shape': (6,), }", data: good)
        XCTAssertTrue(message { _ = try NpyArray(path: noDescr) }.contains("no 'descr' entry"))
        let control = try writeRaw("control.npy", dict: "{'descr': '<f8\u{0}\u{1}', 'fortran_order': False, 'shape': (6,), }", data: good)
        let text = message { _ = try NpyArray(path: control) }
        XCTAssertTrue(text.contains("'<f8\\x00\\x01'"), text)
        XCTAssertFalse(text.unicodeScalars.contains { $0.value < 0x20 }, "control bytes echoed raw: \(text)")
        let unterminated = try writeRaw("open.npy", dict: "{'descr': '<f8', 'fortran_order': False, 'shape': (6,", data: good)
        XCTAssertTrue(message { _ = try NpyArray(path: unterminated) }.contains("malformed .npy header"))
    }

    /// Each malformed file gets its own message.
    func testMalformedFilesEachGetTheirOwnMessage() throws {
        let good = doubles([1, 2, 3, 4])
        try Data().write(to: URL(fileURLWithPath: path("empty.npy")))
        XCTAssertTrue(message { _ = try NpyArray(path: self.path("empty.npy")) }.contains("is empty"))

        try Data([0x93, 0x4E, 0x55]).write(to: URL(fileURLWithPath: path("short.npy")))
        XCTAssertTrue(message { _ = try NpyArray(path: self.path("short.npy")) }.contains("truncated"))

        try Data(Array("PK\u{3}\u{4}hello world, not numpy".utf8)).write(to: URL(fileURLWithPath: path("zip.npy")))
        XCTAssertTrue(message { _ = try NpyArray(path: self.path("zip.npy")) }.contains("bad magic"))

        let truncated = try writeRaw("trunc.npy", dict: "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", data: Array(good.prefix(20)))
        XCTAssertTrue(message { _ = try NpyArray(path: truncated) }.contains("is truncated: shape (2, 2)"))

        let lying = try writeRaw("lie.npy", dict: "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }", data: good)
        XCTAssertTrue(message { _ = try NpyArray(path: lying) }.contains("beyond the shape"))

        let noShape = try writeRaw("noshape.npy", dict: "{'descr': '<f8', 'fortran_order': False, }", data: good)
        XCTAssertTrue(message { _ = try NpyArray(path: noShape) }.contains("no readable 'shape'"))

        let notDict = try writeRaw("notdict.npy", dict: "descr=<f8 shape=4", data: good)
        XCTAssertTrue(message { _ = try NpyArray(path: notDict) }.contains("not a dictionary"))

        let badShape = try writeRaw("badshape.npy", dict: "{'descr': '<f8', 'fortran_order': False, 'shape': (2, -2), }", data: good)
        XCTAssertTrue(message { _ = try NpyArray(path: badShape) }.contains("not a non-negative integer"))

        let big = try writeRaw("be.npy", dict: "{'descr': '>f8', 'fortran_order': False, 'shape': (4,), }", data: good)
        XCTAssertTrue(message { _ = try NpyArray(path: big) }.contains("big-endian"))

        let complex = try writeRaw("c16.npy", dict: "{'descr': '<c16', 'fortran_order': False, 'shape': (2,), }", data: good)
        XCTAssertTrue(message { _ = try NpyArray(path: complex) }.contains("complex"))

        let object = try writeRaw("obj.npy", dict: "{'descr': '|O', 'fortran_order': False, 'shape': (4,), }", data: good)
        XCTAssertTrue(message { _ = try NpyArray(path: object) }.contains("Python objects"))

        let structured = try writeRaw("rec.npy", dict: "{'descr': [('a', '<f8'), ('b', '<f8')], 'fortran_order': False, 'shape': (2,), }", data: good)
        XCTAssertTrue(message { _ = try NpyArray(path: structured) }.contains("structured"))

        let version = try writeRaw("v9.npy", dict: "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", data: good, version: 9)
        XCTAssertTrue(message { _ = try NpyArray(path: version) }.contains("version 9"))

        XCTAssertTrue(message { _ = try NpyArray(path: self.path("missing.npy")) }.contains("No such file"))
    }

    func testVersionTwoHeaderAndZeroDimensionalShape() throws {
        let v2 = try writeRaw("v2.npy", dict: "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }", data: doubles([1, 2, 3, 4]), version: 2)
        let a = try NpyArray(path: v2)
        XCTAssertEqual(a.shape, [2, 2])
        XCTAssertTrue(a.fortranOrder)
        let scalar = try writeRaw("s.npy", dict: "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", data: doubles([5]))
        XCTAssertEqual(try NpyArray(path: scalar).shape, [])
    }

    func testTiledMatrixLoadRefusesNonFiniteAndNon2D() throws {
        let engine = try Engine(threads: 2)
        try NpyWriter.write([1, 2, .nan, 4, 5, 6], shape: [3, 2], to: path("nan.npy"))
        // In place: found by the first pass that reads A; copied: found as it is copied.
        let inPlace = try TiledMatrix.load(NpyArray(path: path("nan.npy")), tileRows: nil, engine: engine)
        XCTAssertTrue(inPlace.isView)
        XCTAssertTrue(message { _ = try inPlace.gram(engine: engine) }.contains("nan.npy holds a non-finite value at row 1, column 0"))
        XCTAssertTrue(message { _ = try TiledMatrix.load(NpyArray(path: self.path("nan.npy")), tileRows: nil, engine: engine, inPlace: false) }
            .contains("nan.npy holds a non-finite value at row 1, column 0"))
        try NpyWriter.write([1, 2, 3], shape: [3], to: path("v.npy"))
        XCTAssertTrue(message { _ = try TiledMatrix.load(NpyArray(path: self.path("v.npy")), tileRows: nil, engine: engine) }
            .contains("must be 2-D"))
        try NpyWriter.write((0..<6).map(Double.init), shape: [3, 2], fortranOrder: true, to: path("f.npy"))
        let m = try TiledMatrix.load(NpyArray(path: path("f.npy")), tileRows: 2, engine: engine)
        XCTAssertEqual(m[2, 1], 5)
        XCTAssertTrue(m.isView)
        XCTAssertEqual(m.tiles[1].tile.ld, 3, "a Fortran-order file is viewed column-major with leading dimension n")
    }

    /// A NaN in the very last row of a mapped C-order file (many tiles, read in parallel with no
    /// scan before) is found with its row and column; float32 and integer files load to the same
    /// tiles as float64.
    func testLoadFindsANaNInTheLastRowAndConvertsTileByTile() throws {
        let engine = try Engine(threads: 2)
        let n = 5_000, d = 7
        var values = (0..<(n * d)).map { Double(($0 * 13) % 97) - 48 }
        try NpyWriter.write(values, shape: [n, d], to: path("ok.npy"))
        let reference = try TiledMatrix.load(NpyArray(path: path("ok.npy")), tileRows: 300, engine: engine)
        XCTAssertEqual(reference[n - 1, d - 1], values[n * d - 1])
        values[(n - 1) * d + 4] = .nan
        try NpyWriter.write(values, shape: [n, d], to: path("last.npy"))
        XCTAssertTrue(message { _ = try TiledMatrix.load(NpyArray(path: self.path("last.npy")), tileRows: 300, engine: engine).gram(engine: engine) }
            .contains("non-finite value at row \(n - 1), column 4"))
        XCTAssertTrue(message { _ = try TiledMatrix.load(NpyArray(path: self.path("last.npy")), tileRows: 300, engine: engine, inPlace: false) }
            .contains("non-finite value at row \(n - 1), column 4"))
        let f4 = try writeRaw("f4.npy", dict: "{'descr': '<f4', 'fortran_order': False, 'shape': (\(n), \(d)), }",
                              data: (0..<(n * d)).flatMap { k in withUnsafeBytes(of: Float(((k * 13) % 97) - 48).bitPattern.littleEndian) { Array($0) } })
        XCTAssertEqual(try TiledMatrix.load(NpyArray(path: f4), tileRows: 300, engine: engine).toColumnMajorArray(), reference.toColumnMajorArray())
        let i2 = try writeRaw("i2.npy", dict: "{'descr': '<i2', 'fortran_order': False, 'shape': (\(n), \(d)), }",
                              data: (0..<(n * d)).flatMap { k in withUnsafeBytes(of: Int16(((k * 13) % 97) - 48).littleEndian) { Array($0) } })
        XCTAssertEqual(try TiledMatrix.load(NpyArray(path: i2), tileRows: 300, engine: engine).toColumnMajorArray(), reference.toColumnMajorArray())
    }

    func testAtomicWriteLeavesNothingOnFailure() throws {
        XCTAssertTrue(message { try NpyWriter.write([1], shape: [1], to: self.path("no/such/dir/x.npy")) }.contains("does not exist"))
        // A write refused before any file is opened (the shape does not match the values).
        try NpyWriter.write([7], shape: [1], to: path("keep.npy"))
        let before = try Data(contentsOf: URL(fileURLWithPath: path("keep.npy")))
        XCTAssertThrowsError(try NpyWriter.write([1, 2], shape: [3], to: path("keep.npy"))) {
            XCTAssertTrue(($0 as? TesseraError)?.message.contains("shape") ?? false, "\($0)")
        }
        // A write that fails after its temporary exists and holds bytes: the existing destination
        // survives untouched and the temporary is gone.
        var sawTemporary = false
        XCTAssertThrowsError(try AtomicFileGroup().stage(path: path("keep.npy")) { (file) throws(TesseraError) in
            try file.write([UInt8](repeating: 0xAB, count: 4_096), at: 0)
            sawTemporary = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).contains { $0.contains(".tmp-") }
            throw .io("cannot write \(file.path): simulated failure")
        }) { XCTAssertEqual(($0 as? TesseraError)?.message.contains("simulated failure"), true, "\($0)") }
        XCTAssertTrue(sawTemporary, "the failure happened after the temporary was created")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("keep.npy"))), before)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [])
    }

    /// NumPy reads what Tessera writes and Tessera reads what NumPy writes (skipped without NumPy).
    func testInteropWithNumPy() throws {
        let script = """
        import numpy as np, sys
        d = sys.argv[1]
        a = np.load(d + '/t.npy'); assert a.shape == (3, 2) and a[2, 1] == 5.0, a
        np.save(d + '/n.npy', np.arange(6, dtype='<f8').reshape(2, 3) * 2)
        np.save(d + '/nf.npy', np.asfortranarray(np.arange(6.0).reshape(3, 2)))
        np.save(d + '/n32.npy', np.arange(4, dtype=np.float32))
        """
        try NpyWriter.write((0..<6).map(Double.init), shape: [3, 2], to: path("t.npy"))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script, directory]
        try p.run()
        p.waitUntilExit()
        // NumPy is a test dependency (scripts/install-deps.sh installs it): its absence, or its
        // refusal of Tessera's file, is a failure, not a skip.
        XCTAssertEqual(p.terminationStatus, 0, "python3 with NumPy could not read Tessera's t.npy or write its own")
        XCTAssertEqual(try NpyArray(path: path("n.npy")).toArray(), [0, 2, 4, 6, 8, 10])
        let f = try NpyArray(path: path("nf.npy"))
        XCTAssertTrue(f.fortranOrder)
        XCTAssertEqual(f.toArray(), [0, 2, 4, 1, 3, 5])
        XCTAssertEqual(try NpyArray(path: path("n32.npy")).toArray(), [0, 1, 2, 3])
    }
}

/// Outputs get the mode a plain create gives (0666 less the umask), not mkstemp's 0600.
final class AtomicFileModeTests: XCTestCase {
    func testWrittenFilesHaveTheUsualMode() throws {
        let path = NSTemporaryDirectory() + "tessera-mode-\(UUID().uuidString).npy"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try NpyWriter.write([1, 2, 3], shape: [3], to: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        let mode = (attributes[.posixPermissions] as? NSNumber)?.uint16Value ?? 0
        XCTAssertEqual(mode_t(mode), AtomicFile.creationMode)
        XCTAssertNotEqual(mode & 0o044, 0, "group/other read bits under the usual umask 022")
    }
}

/// The fuzz seed corpus (Fuzz/corpus/npy, where any crash the fuzzer finds is added) replayed
/// through the in-memory reader: every file parses or is refused with a message; none crashes.
final class NpyCorpusTests: XCTestCase {
    func testEveryCorpusFileParsesOrIsRefusedWithAMessage() throws {
        let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fuzz/corpus/npy")
        let names = try FileManager.default.contentsOfDirectory(atPath: corpus.path).sorted()
        XCTAssertGreaterThanOrEqual(names.count, 15)
        var parsed: [String] = []
        for name in names {
            let data = [UInt8](try Data(contentsOf: corpus.appendingPathComponent(name)))
            do {
                let array = try data.withUnsafeBytes { try NpyArray(bytes: $0, name: name) }
                XCTAssertEqual(array.count, array.shape.reduce(1, *), name)
                parsed.append(name)
            } catch let error as TesseraError {
                XCTAssertTrue(error.message.contains(name), "\(name): \(error.message)")
            }
        }
        for valid in ["f8-2d.npy", "f8-1d.npy", "f4.npy", "i8.npy", "u1.npy", "bool.npy", "fortran.npy", "v2.npy", "zero-d.npy", "empty-shape.npy"] {
            XCTAssertTrue(parsed.contains(valid), "\(valid) should parse")
        }
        for invalid in ["be.npy", "c16.npy", "struct.npy", "str.npy", "truncated.npy", "header-only.npy", "lying-shape.npy", "huge-shape.npy"] {
            XCTAssertFalse(parsed.contains(invalid), "\(invalid) should be refused")
        }
    }
}
