import XCTest
import Foundation
import TesseraIO
import Tessera
#if canImport(Glibc)
import Glibc
#endif

/// The bad-input suite: every hostile file or option, through the CLI, ends with its one-line
/// message and exit code, never a crash, and leaves no output file and no temporary behind.
/// Also: SIGINT/SIGTERM during a long solve (exit 130/143 within a second, nothing written).
final class HostileInputTests: CLITestCase {
    /// A `.npy` file with a hand-written header (any descr/shape) and raw payload.
    func writeNpy(_ name: String, descr: String, shape: String, fortran: Bool = false, payload: [UInt8]) throws {
        var dict = "{'descr': \(descr), 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shape), }"
        let total = (10 + dict.utf8.count + 1 + 63) / 64 * 64
        dict += String(repeating: " ", count: total - 10 - dict.utf8.count - 1) + "\n"
        let length = dict.utf8.count
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(length & 0xFF), UInt8(length >> 8)]
        bytes += Array(dict.utf8) + payload
        try Data(bytes).write(to: URL(fileURLWithPath: path(name)))
    }

    func doubles(_ values: [Double]) -> [UInt8] { values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } } }

    struct Case {
        let name: String
        let arguments: [String]
        let expected: String
    }

    func testEveryHostileInputGivesItsMessageAndExitTwoWithNothingWritten() throws {
        let n = 400, d = 4
        let g = Philox4x32(seed: 31)
        let a = (0..<(n * d)).map { g.normal(index: UInt64($0), stream: 0) }
        try NpyWriter.write(a, shape: [n, d], to: path("A.npy"))
        try NpyWriter.write((0..<d).map { Double($0) + 1 }, shape: [d], to: path("bd.npy"))
        try NpyWriter.write((0..<n).map { Double($0 % 5) }, shape: [n], to: path("bn.npy"))
        let raw = try Data(contentsOf: URL(fileURLWithPath: path("A.npy")))
        try Data().write(to: URL(fileURLWithPath: path("empty.npy")))
        try raw.prefix(raw.count - 100).write(to: URL(fileURLWithPath: path("truncated.npy")))
        try (Data("NOTNPY".utf8) + raw.dropFirst(6)).write(to: URL(fileURLWithPath: path("magic.npy")))
        try writeNpy("lies-shape.npy", descr: "'<f8'", shape: "(900, 4)", payload: doubles(a))
        try writeNpy("lies-dtype.npy", descr: "'<f4'", shape: "(400, 4)", payload: doubles(a))
        try writeNpy("big-endian.npy", descr: "'>f8'", shape: "(400, 4)", payload: doubles(a))
        try writeNpy("complex.npy", descr: "'<c16'", shape: "(200, 4)", payload: doubles(a))
        try writeNpy("object.npy", descr: "'|O'", shape: "(2, 2)", payload: [UInt8](repeating: 0, count: 32))
        try writeNpy("structured.npy", descr: "[('a', '<f8'), ('b', '<f8')]", shape: "(800,)", payload: doubles(a))
        try writeNpy("zero-d.npy", descr: "'<f8'", shape: "()", payload: doubles([1]))
        try NpyWriter.write(Array(a.prefix(n)), shape: [n], to: path("one-d.npy"))
        try NpyWriter.write(Array(a.prefix(12)), shape: [3, 4], to: path("wide.npy"))
        try NpyWriter.write([], shape: [0, 4], to: path("no-rows.npy"))
        try NpyWriter.write([], shape: [10, 0], to: path("no-cols.npy"))
        var nan = a; nan[7 * d + 2] = .nan
        try NpyWriter.write(nan, shape: [n, d], to: path("nan.npy"))
        var inf = a; inf[3 * d + 1] = -.infinity
        try NpyWriter.write(inf, shape: [n, d], to: path("inf.npy"))
        try NpyWriter.write([1, .infinity, 3, 4], shape: [d], to: path("b-inf.npy"))
        var duplicated = a; for i in 0..<n { duplicated[i * d + 3] = duplicated[i * d + 1] }
        try NpyWriter.write(duplicated, shape: [n, d], to: path("duplicated.npy"))
        var zero = a; for i in 0..<n { zero[i * d + 2] = 0 }
        try NpyWriter.write(zero, shape: [n, d], to: path("zero-column.npy"))
        try NpyWriter.write(a.map { $0 * 20 }, shape: [n, d], to: path("overflow.npy"))
        try NpyWriter.write(a.map { $0 * 1e160 }, shape: [n, d], to: path("huge.npy"))
        let illConditioned = try ProblemGenerator.make(.gram, rows: 2_000, cols: 16, condition: 1e14, power: 1, seed: 1, engine: Engine(threads: 2))
        try NpyWriter.write(illConditioned.matrix.toColumnMajorArray(), shape: [2_000, 16], fortranOrder: true, to: path("kappa-1e14.npy"))
        try NpyWriter.write(illConditioned.rhs, shape: [16], to: path("b16.npy"))
        try NpyWriter.write([], shape: [4, 0], to: path("b-no-columns.npy"))
        var repeatedRows = a.map { 0.5 * $0 }
        for i in stride(from: 0, to: n, by: 2) { for j in 0..<d { repeatedRows[(i + 1) * d + j] = repeatedRows[i * d + j] } }
        try NpyWriter.write(repeatedRows, shape: [n, d], to: path("repeated-rows.npy"))
        let readOnly = path("read-only")
        try FileManager.default.createDirectory(atPath: readOnly, withIntermediateDirectories: true)
        chmod(readOnly, 0o555)
        // Root ignores directory permissions; sysfs refuses new files even to root.
        let unwritable = geteuid() == 0 ? "/sys/tessera-x.npy" : readOnly + "/x.npy"
        let x = path("x.npy")
        // One file under several spellings and links (the path-identity class).
        try FileManager.default.createDirectory(atPath: path("sub"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: path("link-to-A.npy"), withDestinationPath: path("A.npy"))
        XCTAssertEqual(link(path("A.npy"), path("hard-link-to-A.npy")), 0)
        XCTAssertEqual(mkfifo(path("fifo.npy"), 0o600), 0)
        func gram(_ matrix: String, _ rhs: String = "bd.npy", _ extra: [String] = []) -> [String] {
            ["solve", "gram", "--matrix", path(matrix), "--rhs", path(rhs), "--output", x] + extra
        }
        let cases: [Case] = [
            Case(name: "empty file", arguments: gram("empty.npy"), expected: "is empty"),
            Case(name: "truncated data", arguments: gram("truncated.npy"), expected: "is truncated"),
            Case(name: "bad magic", arguments: gram("magic.npy"), expected: "bad magic"),
            Case(name: "header lies about shape", arguments: gram("lies-shape.npy"), expected: "is truncated"),
            Case(name: "header lies about dtype", arguments: gram("lies-dtype.npy"), expected: "header does not match the data"),
            Case(name: "big-endian", arguments: gram("big-endian.npy"), expected: "big-endian"),
            Case(name: "complex", arguments: gram("complex.npy"), expected: "complex"),
            Case(name: "object", arguments: gram("object.npy"), expected: "Python objects"),
            Case(name: "structured", arguments: gram("structured.npy"), expected: "structured"),
            Case(name: "0-d array", arguments: gram("zero-d.npy"), expected: "A must be 2-D"),
            Case(name: "1-D A", arguments: gram("one-d.npy"), expected: "A must be 2-D"),
            Case(name: "n < d", arguments: gram("wide.npy"), expected: "n ≥ d"),
            Case(name: "n = 0", arguments: gram("no-rows.npy"), expected: "at least one row"),
            Case(name: "d = 0", arguments: gram("no-cols.npy"), expected: "at least one row and one column"),
            Case(name: "gram b of length n", arguments: gram("A.npy", "bn.npy"), expected: "needs d (the columns of A) = 4"),
            Case(name: "lstsq b of length d", arguments: ["solve", "lstsq", "--matrix", path("A.npy"), "--rhs", path("bd.npy"), "--output", x],
                 expected: "needs n (the rows of A) = 400"),
            Case(name: "NaN in A", arguments: gram("nan.npy"), expected: "non-finite value at row 7, column 2"),
            Case(name: "-Inf in A", arguments: gram("inf.npy"), expected: "non-finite value at row 3, column 1"),
            Case(name: "Inf in b", arguments: gram("A.npy", "b-inf.npy"), expected: "non-finite value at flat index 1"),
            Case(name: "duplicated column, refused", arguments: gram("duplicated.npy", "bd.npy", ["--rank-deficient", "refuse"]),
                 expected: "rank deficient: estimated rank 3 of 4"),
            Case(name: "all-zero column, refused", arguments: gram("zero-column.npy", "bd.npy", ["--rank-deficient", "refuse"]),
                 expected: "rank deficient: estimated rank 3 of 4"),
            Case(name: "rcond out of range", arguments: gram("A.npy", "bd.npy", ["--rcond", "-1"]), expected: "--rcond must lie in [0, 1)"),
            Case(name: "exp overflow", arguments: ["solve", "attention", "--matrix", path("overflow.npy"), "--rhs", path("bn.npy"), "--output", x],
                 expected: "exp(AAᵀ) would overflow"),
            Case(name: "negative power", arguments: gram("A.npy", "bd.npy", ["--power", "-1"]), expected: "--power must lie in 1...64"),
            Case(name: "absurd power", arguments: gram("A.npy", "bd.npy", ["--power", "1000000"]), expected: "--power must lie in 1...64"),
            Case(name: "power beyond Int", arguments: gram("A.npy", "bd.npy", ["--power", "99999999999999999999"]), expected: "--power"),
            Case(name: "tolerance 0", arguments: gram("A.npy", "bd.npy", ["--tolerance", "0"]), expected: "--tolerance must lie strictly between 0 and 1"),
            Case(name: "tolerance < 0", arguments: gram("A.npy", "bd.npy", ["--tolerance", "-1e-3"]), expected: "--tolerance must lie strictly between 0 and 1"),
            Case(name: "tolerance 1", arguments: gram("A.npy", "bd.npy", ["--tolerance", "1"]), expected: "--tolerance must lie strictly between 0 and 1"),
            Case(name: "tolerance NaN", arguments: gram("A.npy", "bd.npy", ["--tolerance", "nan"]), expected: "--tolerance must lie strictly between 0 and 1"),
            Case(name: "threads 0", arguments: gram("A.npy", "bd.npy", ["--threads", "0"]), expected: "--threads must be at least 1"),
            Case(name: "threads negative", arguments: gram("A.npy", "bd.npy", ["--threads", "-4"]), expected: "--threads must be at least 1"),
            Case(name: "tile rows > n", arguments: gram("A.npy", "bd.npy", ["--tile-rows", "401"]), expected: "larger than the matrix"),
            Case(name: "rank > n", arguments: ["solve", "attention", "--matrix", path("A.npy"), "--rhs", path("bn.npy"), "--output", x, "--rank", "401"],
                 expected: "--rank 401 exceeds n = 400"),
            Case(name: "negative ridge", arguments: ["solve", "attention", "--matrix", path("A.npy"), "--rhs", path("bn.npy"), "--output", x, "--ridge", "-1"],
                 expected: "--ridge must be a finite number ≥ 0"),
            Case(name: "memory budget too small (gram)", arguments: gram("A.npy", "bd.npy", ["--memory-budget", "4K"]), expected: "over the memory budget of 4 KiB"),
            Case(name: "memory budget too small (attention direct)",
                 arguments: ["solve", "attention", "--matrix", path("A.npy"), "--rhs", path("bn.npy"), "--output", x, "--method", "direct", "--memory-budget", "600K"],
                 expected: "the direct method (K, 400 × 400) needs about"),
            Case(name: "unreadable input", arguments: gram("missing.npy"), expected: "cannot read"),
            Case(name: "input is a directory", arguments: ["solve", "gram", "--matrix", directory, "--rhs", path("bd.npy"), "--output", x], expected: "not a regular file"),
            Case(name: "output in a missing directory", arguments: ["solve", "gram", "--matrix", path("A.npy"), "--rhs", path("bd.npy"), "--output", path("no/x.npy")],
                 expected: "does not exist"),
            Case(name: "output in a read-only directory", arguments: ["solve", "gram", "--matrix", path("A.npy"), "--rhs", path("bd.npy"), "--output", unwritable],
                 expected: "cannot write"),
            Case(name: "output on a full device", arguments: ["solve", "gram", "--matrix", path("A.npy"), "--rhs", path("bd.npy"), "--output", "/dev/full"],
                 expected: "No space left on device"),
            Case(name: "report on a full device", arguments: gram("A.npy", "bd.npy", ["--report", "/dev/full"]), expected: "No space left on device"),
            Case(name: "output is a directory", arguments: ["solve", "gram", "--matrix", path("A.npy"), "--rhs", path("bd.npy"), "--output", directory],
                 expected: "is not a regular file"),
            Case(name: "output is the input", arguments: ["solve", "gram", "--matrix", path("A.npy"), "--rhs", path("bd.npy"), "--output", path("A.npy")],
                 expected: "both as an input and an output"),
            Case(name: "output is a symbolic link to the input", arguments: Array(gram("A.npy", "bd.npy").dropLast(2)) + ["--output", path("link-to-A.npy")],
                 expected: "both as an input"),
            Case(name: "output is a hard link to the input", arguments: Array(gram("A.npy", "bd.npy").dropLast(2)) + ["--output", path("hard-link-to-A.npy")],
                 expected: "both as an input"),
            Case(name: "output is the input through ..", arguments: Array(gram("A.npy", "bd.npy").dropLast(2)) + ["--output", path("sub/../A.npy")],
                 expected: "both as an input"),
            Case(name: "output and report one file through ..", arguments: gram("A.npy", "bd.npy", ["--report", path("sub/../x.npy")]),
                 expected: "are the same file"),
            Case(name: "report and trace one file through ./ and //",
                 arguments: gram("A.npy", "bd.npy", ["--report", path("sub/./t.json"), "--trace", path("sub//t.json")]),
                 expected: "are the same file"),
            Case(name: "gram-matrix output is the input through a link", arguments: ["gram-matrix", "--matrix", path("A.npy"), "--output", path("link-to-A.npy")],
                 expected: "both as an input"),
            Case(name: "input is a FIFO with no writer", arguments: gram("fifo.npy"), expected: "it is a FIFO, not a regular file"),
            Case(name: "input is a character device", arguments: ["solve", "gram", "--matrix", "/dev/null", "--rhs", path("bd.npy"), "--output", x], expected: "it is a character device, not a regular file"),
            Case(name: "threads far beyond the machine", arguments: gram("A.npy", "bd.npy", ["--threads", "100000"]), expected: "--threads must be at most"),
            Case(name: "threads at Int.max", arguments: gram("A.npy", "bd.npy", ["--threads", "9223372036854775807"]), expected: "--threads must be at most"),
            Case(name: "negative memory budget", arguments: gram("A.npy", "bd.npy", ["--memory-budget", "-5G"]), expected: "--memory-budget must be a positive size"),
            Case(name: "zero memory budget", arguments: gram("A.npy", "bd.npy", ["--memory-budget", "0"]), expected: "--memory-budget must be a positive size"),
            Case(name: "memory budget beyond 2^64", arguments: gram("A.npy", "bd.npy", ["--memory-budget", "99999999999999999999"]), expected: "is not a size"),
            Case(name: "--ridge with gram", arguments: gram("A.npy", "bd.npy", ["--ridge", "0.1"]), expected: "--ridge does not apply to gram"),
            Case(name: "--rank with lstsq", arguments: ["solve", "lstsq", "--matrix", path("A.npy"), "--rhs", path("bn.npy"), "--output", x, "--rank", "5"],
                 expected: "--rank does not apply to lstsq"),
            Case(name: "--power with attention", arguments: ["solve", "attention", "--matrix", path("A.npy"), "--rhs", path("bn.npy"), "--output", x, "--power", "2"],
                 expected: "--power does not apply to attention"),
            Case(name: "--rcond with attention", arguments: ["solve", "attention", "--matrix", path("A.npy"), "--rhs", path("bn.npy"), "--output", x, "--rcond", "1e-8"],
                 expected: "--rcond does not apply to attention"),
            Case(name: "--output given twice", arguments: gram("A.npy", "bd.npy", ["--output", path("y.npy")]), expected: "--output is given more than once"),
            Case(name: "--threads given twice, one with =", arguments: gram("A.npy", "bd.npy", ["--threads=1", "--threads", "2"]), expected: "--threads is given more than once"),
            Case(name: "gram-matrix whose AᵀA overflows", arguments: ["gram-matrix", "--matrix", path("huge.npy"), "--output", x],
                 expected: "G = AᵀA of \(path("huge.npy")) is not representable in float64"),
            Case(name: "singular K, λ = 0, direct", arguments: ["solve", "attention", "--matrix", path("repeated-rows.npy"), "--rhs", path("bn.npy"), "--output", x, "--method", "direct"],
                 expected: "K + λI is not numerically positive definite"),
            Case(name: "singular K, λ = 0, auto", arguments: ["solve", "attention", "--matrix", path("repeated-rows.npy"), "--rhs", path("bn.npy"), "--output", x],
                 expected: "add a ridge"),
            Case(name: "b with no columns", arguments: gram("A.npy", "b-no-columns.npy"), expected: "has shape (4, 0): no right-hand side (0 columns)"),
            Case(name: "full rank but κ = 1e14, refused", arguments: gram("kappa-1e14.npy", "b16.npy", ["--rank-deficient", "refuse"]),
                 expected: "A is too ill-conditioned for a full-rank solve in float64: every column counts"),
            // Every option at its absurd values: its range in one line, before any work.
            Case(name: "tile rows 0", arguments: gram("A.npy", "bd.npy", ["--tile-rows", "0"]), expected: "--tile-rows must be at least 1"),
            Case(name: "sketch size factor inf", arguments: gram("A.npy", "bd.npy", ["--sketch-size-factor", "inf"]), expected: "--sketch-size-factor must lie in [1, 100]"),
            Case(name: "sketch size factor NaN", arguments: gram("A.npy", "bd.npy", ["--sketch-size-factor", "nan"]), expected: "--sketch-size-factor must lie in [1, 100]"),
            Case(name: "tolerance inf", arguments: gram("A.npy", "bd.npy", ["--tolerance", "inf"]), expected: "--tolerance must lie strictly between 0 and 1"),
            Case(name: "tolerance -inf", arguments: gram("A.npy", "bd.npy", ["--tolerance", "-inf"]), expected: "--tolerance must lie strictly between 0 and 1"),
            Case(name: "rcond NaN", arguments: gram("A.npy", "bd.npy", ["--rcond", "nan"]), expected: "--rcond must lie in [0, 1)"),
            Case(name: "--precision mixed with attention's direct method", arguments: ["solve", "attention", "--matrix", path("A.npy"), "--rhs", path("bn.npy"), "--output", x, "--precision", "mixed", "--method", "direct"],
                 expected: "does not combine with --method direct"),
            Case(name: "--precision mixed with an exact method", arguments: gram("A.npy", "bd.npy", ["--precision", "mixed", "--method", "cholesky"]),
                 expected: "does not combine with --method cholesky"),
            Case(name: "--precision unknown", arguments: gram("A.npy", "bd.npy", ["--precision", "half"]), expected: "--precision"),
            Case(name: "rcond 1", arguments: gram("A.npy", "bd.npy", ["--rcond", "1"]), expected: "--rcond must lie in [0, 1)"),
            Case(name: "rcond inf", arguments: gram("A.npy", "bd.npy", ["--rcond", "inf"]), expected: "--rcond must lie in [0, 1)"),
            Case(name: "seed beyond UInt64", arguments: gram("A.npy", "bd.npy", ["--seed", "18446744073709551616"]), expected: "is invalid for '--seed"),
            Case(name: "power 1e3", arguments: gram("A.npy", "bd.npy", ["--power", "1e3"]), expected: "is invalid for '--power"),
            Case(name: "power not a number", arguments: gram("A.npy", "bd.npy", ["--power", "abc"]), expected: "is invalid for '--power"),
            Case(name: "unknown method", arguments: gram("A.npy", "bd.npy", ["--method", "bogus"]), expected: "is invalid for '--method"),
            Case(name: "unknown sketch", arguments: gram("A.npy", "bd.npy", ["--sketch", "bogus"]), expected: "is invalid for '--sketch"),
            Case(name: "ridge NaN", arguments: ["solve", "attention", "--matrix", path("A.npy"), "--rhs", path("bn.npy"), "--output", x, "--ridge", "nan"],
                 expected: "--ridge must be a finite number ≥ 0"),
            Case(name: "ridge inf", arguments: ["solve", "attention", "--matrix", path("A.npy"), "--rhs", path("bn.npy"), "--output", x, "--ridge", "inf"],
                 expected: "--ridge must be a finite number ≥ 0"),
            Case(name: "rank 0", arguments: ["solve", "attention", "--matrix", path("A.npy"), "--rhs", path("bn.npy"), "--output", x, "--rank", "0"],
                 expected: "--rank must be at least 1"),
            Case(name: "rank negative", arguments: ["solve", "attention", "--matrix", path("A.npy"), "--rhs", path("bn.npy"), "--output", x, "--rank", "-1"],
                 expected: "--rank must be at least 1"),
            Case(name: "a gram method for attention", arguments: ["solve", "attention", "--matrix", path("A.npy"), "--rhs", path("bn.npy"), "--output", x, "--method", "cholesky"],
                 expected: "--method cholesky is for gram/lstsq"),
            Case(name: "an attention method for gram", arguments: gram("A.npy", "bd.npy", ["--method", "surrogate"]), expected: "--method surrogate is only for attention"),
            Case(name: "max iterations 0", arguments: gram("A.npy", "bd.npy", ["--max-iterations", "0"]), expected: "--max-iterations must be at least 1"),
            Case(name: "no output option", arguments: ["solve", "gram", "--matrix", path("A.npy"), "--rhs", path("bd.npy")], expected: "Missing expected argument '--output"),
            Case(name: "no matrix option", arguments: ["solve", "gram", "--rhs", path("bd.npy"), "--output", x], expected: "Missing expected argument '--matrix"),
            Case(name: "unknown problem", arguments: ["solve", "bogus", "--matrix", path("A.npy"), "--rhs", path("bd.npy"), "--output", x], expected: "is invalid for '<problem>'"),
            Case(name: "generate 0 rows", arguments: ["generate", "gram", "--rows", "0", "--cols", "4", "--output-dir", path("gen")], expected: "--rows and --cols must be at least 1"),
            Case(name: "generate n < d", arguments: ["generate", "gram", "--rows", "3", "--cols", "4", "--output-dir", path("gen")], expected: "--rows must be at least --cols"),
            Case(name: "generate condition < 1", arguments: ["generate", "gram", "--rows", "100", "--cols", "4", "--condition", "0.5", "--output-dir", path("gen")],
                 expected: "--condition must be ≥ 1"),
            Case(name: "generate condition NaN", arguments: ["generate", "lstsq", "--rows", "100", "--cols", "4", "--condition", "nan", "--output-dir", path("gen")],
                 expected: "--condition must be ≥ 1"),
            Case(name: "generate condition inf", arguments: ["generate", "gram", "--rows", "100", "--cols", "4", "--condition", "inf", "--output-dir", path("gen")],
                 expected: "--condition must be ≥ 1"),
            Case(name: "generate row norm NaN", arguments: ["generate", "attention", "--rows", "100", "--cols", "4", "--row-norm", "nan", "--output-dir", path("gen")],
                 expected: "--row-norm must be positive"),
            Case(name: "generate row norm negative", arguments: ["generate", "attention", "--rows", "100", "--cols", "4", "--row-norm", "-1", "--output-dir", path("gen")],
                 expected: "--row-norm must be positive"),
            Case(name: "generate negative power", arguments: ["generate", "gram", "--rows", "100", "--cols", "4", "--power", "-1", "--output-dir", path("gen")],
                 expected: "--power must lie in 1...64"),
            Case(name: "generate into a file", arguments: ["generate", "gram", "--rows", "100", "--cols", "4", "--output-dir", path("A.npy")],
                 expected: "it exists and is not a directory"),
            Case(name: "generate exp overflow leaves no directory", arguments: ["generate", "attention", "--rows", "100", "--cols", "4", "--row-norm", "30", "--output-dir", path("gen")],
                 expected: "would overflow"),
            Case(name: "gram-matrix of a missing file", arguments: ["gram-matrix", "--matrix", path("missing.npy"), "--output", x], expected: "cannot read"),
            Case(name: "gram-matrix of a directory", arguments: ["gram-matrix", "--matrix", directory, "--output", x], expected: "it is a directory, not a regular file"),
            Case(name: "gram-matrix output given twice", arguments: ["gram-matrix", "--matrix", path("A.npy"), "--output", x, "--output", path("y.npy")],
                 expected: "--output is given more than once"),
            Case(name: "demo with n < d", arguments: ["demo", "--rows", "10", "--cols", "20"], expected: "--rows must be at least --cols"),
            Case(name: "info with negative rows", arguments: ["info", "--rows", "-1", "--cols", "4"], expected: "--rows and --cols must be at least 1"),
            Case(name: "info with 0 threads", arguments: ["info", "--threads", "0"], expected: "--threads must be at least 1"),
            Case(name: "demo beyond memory", arguments: ["demo", "--rows", "1000000000000", "--cols", "64"], expected: "over the default budget"),
            Case(name: "demo with negative columns", arguments: ["demo", "--rows", "100", "--cols", "-3"], expected: "--cols must be at least 1"),
            Case(name: "generate beyond memory", arguments: ["generate", "gram", "--rows", "1000000000000", "--cols", "2000", "--output-dir", path("gen")],
                 expected: "over the default budget"),
        ]
        let before = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        // Every input's bytes, to check after each case that nothing was changed (regular files
        // only: reading the FIFO would block).
        func snapshot() throws -> [String: Data] {
            var out: [String: Data] = [:]
            for name in before where (try? FileManager.default.attributesOfItem(atPath: path(name))[.type] as? FileAttributeType) == .typeRegular {
                out[name] = try Data(contentsOf: URL(fileURLWithPath: path(name)))
            }
            return out
        }
        let inputs = try snapshot()
        XCTAssertGreaterThanOrEqual(cases.count, 100, "the suite has at least 100 hostile cases")
        for c in cases {
            let r = try run(c.arguments)
            XCTAssertEqual(r.status, 2, "\(c.name): \(r.stderr)")
            XCTAssertTrue(r.stderr.hasPrefix("tessera: error: ") && r.stderr.contains(c.expected), "\(c.name): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "\(c.name): \(r.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: x), "\(c.name) left x.npy")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory).sorted(), before, "\(c.name) left a file")
            XCTAssertTrue(try snapshot() == inputs, "\(c.name) changed an input")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/sys/tessera-x.npy"))
        var info = stat()
        XCTAssertEqual(stat("/dev/full", &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFCHR, "/dev/full must still be a device")
        XCTAssertEqual(try NpyArray(path: path("A.npy")).toArray(), a, "the input must survive")
    }

    /// True in a ThreadSanitizer or AddressSanitizer build, whose runtime finalization at exit
    /// alone takes about half a second on this machine.
    var underSanitizer: Bool {
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__tsan_init") != nil || dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__asan_init") != nil
    }

    /// User plus system CPU seconds of a running process (/proc/PID/stat fields 14 and 15).
    func cpuSeconds(of pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// SIGINT, SIGTERM, SIGHUP and SIGQUIT during a long solve, sent once it has used a second of
    /// CPU time (so it is iterating, however loaded the machine): exit 130, 143, 129 and 131
    /// within a second (3 s in sanitizer builds), no output, no temporary files.
    func testSignalsStopALongSolveWithinASecondAndWriteNothing() throws {
        let dir = path("long")
        XCTAssertEqual(try run(["generate", "attention", "--rows", "3000", "--cols", "8", "--output-dir", dir, "--quiet"]).status, 0)
        for (signal, status) in [(SIGINT, Int32(130)), (SIGTERM, Int32(143)), (SIGHUP, Int32(129)), (SIGQUIT, Int32(131))] {
            // The paper's iteration with a tiny preconditioner and no ridge runs for minutes.
            let (p, out, err) = try launch(["solve", "attention", "--matrix", dir + "/A.npy", "--rhs", dir + "/b.npy", "--method", "paper",
                                            "--rank", "3", "--max-iterations", "1000000", "--tolerance", "1e-15",
                                            "--output", dir + "/x.npy", "--report", dir + "/r.json"])
            // Wait for an observable event, not a fixed time: the process has spent a second of
            // CPU time (loading takes a few milliseconds), so it is iterating.
            let deadline = Date().addingTimeInterval(120)
            while p.isRunning && cpuSeconds(of: p.processIdentifier) < 1 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            XCTAssertTrue(p.isRunning, "the solve should still be running")
            XCTAssertGreaterThanOrEqual(cpuSeconds(of: p.processIdentifier), 1, "the solve never got going")
            let sent = Date()
            kill(p.processIdentifier, signal)
            p.waitUntilExit()
            let elapsed = Date().timeIntervalSince(sent)
            _ = out.fileHandleForReading.readDataToEndOfFile()
            let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertEqual(p.terminationReason, .exit, "signal \(signal)")
            XCTAssertEqual(p.terminationStatus, status, "signal \(signal): \(e)")
            XCTAssertLessThan(elapsed, underSanitizer ? 3.0 : 1.0, "signal \(signal)")
            XCTAssertTrue(e.contains("stopped by SIG"), e)
            let left = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
            XCTAssertEqual(left, ["A.npy", "b.npy", "x_true.npy"], "signal \(signal)")
        }
    }
}
