import XCTest
import Foundation
import TesseraIO
import Tessera

/// End-to-end runs of the built `tessera` executable.
final class CLITests: CLITestCase {
    func testHelpOnEveryCommand() throws {
        for command in [[], ["info"], ["demo"], ["gram-matrix"], ["solve"], ["generate"]] {
            let r = try run(command + ["--help"])
            XCTAssertEqual(r.status, 0, "\(command)")
            XCTAssertTrue(r.stdout.contains("USAGE"), "\(command): \(r.stdout)")
        }
    }

    func testInfoPrintsTopologyCoreAndTileChoice() throws {
        let r = try run(["info", "--rows", "100000", "--cols", "64"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("NUMA domain"))
        XCTAssertTrue(r.stdout.contains("OpenBLAS core:"))
        XCTAssertTrue(r.stdout.contains("tile rows for 100000 × 64"))
        let s = try run(["info", "--synthetic", "pack:2 numa:2 core:4 pu:1"])
        XCTAssertTrue(s.stdout.contains("synthetic, 4 NUMA domain(s), 16 cores"), s.stdout)
    }

    /// A generic core on an AVX2 CPU makes the CLI re-execute itself with OPENBLAS_CORETYPE set;
    /// a value the user exported is kept.
    func testOldOpenBLASCoreIsFixedByReexecutionButUserValueWins() throws {
        let pretend = try run(["info"], environment: ["TESSERA_TEST_DETECTED_CORE": "Prescott"])
        XCTAssertEqual(pretend.status, 0, pretend.stderr)
        if OpenBLASRuntimeProbe.hasAVX2 {
            XCTAssertTrue(pretend.stdout.contains("re-executed itself with OPENBLAS_CORETYPE="), pretend.stdout)
        }
        let user = try run(["info"], environment: ["OPENBLAS_CORETYPE": "Sandybridge", "TESSERA_TEST_DETECTED_CORE": "Prescott"])
        XCTAssertTrue(user.stdout.contains("OpenBLAS core: Sandybridge"), user.stdout)
        XCTAssertFalse(user.stdout.contains("re-executed"))
    }

    func testDemoPassesItsChecks() throws {
        let r = try run(["demo", "--rows", "8000", "--cols", "16"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("identical bits on 1 and"))
        XCTAssertTrue(r.stdout.contains("auto→"))
    }

    func testGenerateThenSolveRecoversTheKnownSolution() throws {
        for (problem, power) in [("gram", "2"), ("lstsq", "1")] {
            let dir = path(problem)
            // κ(A) = 10: κ(M) = 10⁴ (gram, j = 2) and 10³ (lstsq, j = 1), so the default tolerance
            // 10⁻¹² bounds the forward error near 10⁻⁸ — below float32's 6·10⁻⁸, which would fail.
            let g = try run(["generate", problem, "--rows", "3000", "--cols", "12", "--condition", "10", "--power", power, "--output-dir", dir])
            XCTAssertEqual(g.status, 0, g.stderr)
            for method in ["auto", "paper", "pcg", "direct", "cholesky"] {
                let r = try run(["solve", problem, "--matrix", dir + "/A.npy", "--rhs", dir + "/b.npy", "--power", power,
                                 "--method", method, "--output", dir + "/x.npy", "--report", dir + "/r.json", "--quiet"])
                XCTAssertEqual(r.status, 0, "\(problem) \(method): \(r.stderr)")
                let x = try NpyArray(path: dir + "/x.npy").toArray(), truth = try NpyArray(path: dir + "/x_true.npy").toArray()
                let error = zip(x, truth).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot() / truth.map { $0 * $0 }.reduce(0, +).squareRoot()
                XCTAssertLessThan(error, 1e-8, "\(problem) \(method)")
                let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/r.json"))) as? [String: Any]
                XCTAssertEqual(report?["converged"] as? Bool, true)
            }
        }
    }

    func testAttentionGenerateSolveAndErrors() throws {
        let dir = path("att")
        let g = try run(["generate", "attention", "--rows", "1500", "--cols", "8", "--row-norm", "1", "--ridge", "0.01", "--output-dir", dir])
        XCTAssertEqual(g.status, 0, g.stderr)
        // The generator's b against an oracle that shares no code with its kernel operator: plain
        // loops with Foundation's exp, b = (exp(AAᵀ) + λI)·x_true.
        do {
            let a = try NpyArray(path: dir + "/A.npy"), n = 1500, d = 8
            let values = a.toArray(), x = try NpyArray(path: dir + "/x_true.npy").toArray(), b = try NpyArray(path: dir + "/b.npy").toArray()
            XCTAssertEqual(a.shape, [n, d])
            XCTAssertFalse(a.fortranOrder)
            var expected = x.map { 0.01 * $0 }
            for i in 0..<n {
                for j in 0..<n {
                    var dot = 0.0
                    for k in 0..<d { dot += values[i * d + k] * values[j * d + k] }
                    expected[i] += Foundation.exp(dot) * x[j]
                }
            }
            let error = zip(b, expected).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot() / expected.map { $0 * $0 }.reduce(0, +).squareRoot()
            XCTAssertLessThan(error, 1e-13, "generate attention's b")
        }
        for method in ["auto", "pcg", "direct"] {
            let r = try run(["solve", "attention", "--matrix", dir + "/A.npy", "--rhs", dir + "/b.npy", "--ridge", "0.01",
                             "--method", method, "--output", dir + "/x.npy", "--report", dir + "/r.json"])
            XCTAssertEqual(r.status, 0, "\(method): \(r.stderr)")
            XCTAssertTrue(r.stdout.contains("relative residual"), r.stdout)
            let x = try NpyArray(path: dir + "/x.npy").toArray(), truth = try NpyArray(path: dir + "/x_true.npy").toArray()
            let error = zip(x, truth).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot() / truth.map { $0 * $0 }.reduce(0, +).squareRoot()
            XCTAssertLessThan(error, 1e-6, method)
        }
        // Rows whose norms make exp overflow: one line, exit 2, nothing written.
        let big = path("big")
        XCTAssertEqual(try run(["generate", "attention", "--rows", "100", "--cols", "4", "--row-norm", "30", "--output-dir", big]).status, 2)
        try NpyWriter.write((0..<400).map { Double($0 % 7) * 10 }, shape: [100, 4], to: path("bigA.npy"))
        try NpyWriter.write([Double](repeating: 1, count: 100), shape: [100], to: path("b100.npy"))
        let o = try run(["solve", "attention", "--matrix", path("bigA.npy"), "--rhs", path("b100.npy"), "--output", path("xo.npy")])
        XCTAssertEqual(o.status, 2, o.stderr)
        XCTAssertTrue(o.stderr.contains("would overflow"), o.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("xo.npy")))
        // λ = 0 with a tiny iteration cap: x written, exit 3, the report suggests a ridge.
        let capped = try run(["solve", "attention", "--matrix", dir + "/A.npy", "--rhs", dir + "/b.npy", "--method", "pcg",
                              "--rank", "5", "--max-iterations", "3", "--output", dir + "/x0.npy"])
        XCTAssertEqual(capped.status, 3, capped.stderr)
        XCTAssertTrue(capped.stdout.contains("--ridge"), capped.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/x0.npy"))
        let budget = try run(["solve", "attention", "--matrix", dir + "/A.npy", "--rhs", dir + "/b.npy", "--method", "direct",
                              "--memory-budget", "1M", "--output", dir + "/x1.npy"])
        XCTAssertEqual(budget.status, 2, budget.stderr)
        XCTAssertTrue(budget.stderr.contains("memory budget"), budget.stderr)
    }

    func testBlockOfRightHandSidesGivesOneColumnEach() throws {
        let dir = path("block")
        XCTAssertEqual(try run(["generate", "gram", "--rows", "2000", "--cols", "6", "--output-dir", dir]).status, 0)
        let b = try NpyArray(path: dir + "/b.npy").toArray()
        try NpyWriter.write(b.flatMap { [$0, 2 * $0] }, shape: [6, 2], to: dir + "/B.npy")
        let r = try run(["solve", "gram", "--matrix", dir + "/A.npy", "--rhs", dir + "/B.npy", "--output", dir + "/X.npy", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let x = try NpyArray(path: dir + "/X.npy")
        XCTAssertEqual(x.shape, [6, 2])
        let v = x.toArray()
        for i in 0..<6 { XCTAssertEqual(v[2 * i + 1], 2 * v[2 * i], accuracy: 1e-9 * max(1, abs(v[2 * i]))) }

        // lstsq: an (n, 2) b gives a (d, 2) x, through the block path.
        let ls = path("block-lstsq")
        XCTAssertEqual(try run(["generate", "lstsq", "--rows", "2000", "--cols", "6", "--condition", "10", "--power", "1", "--output-dir", ls]).status, 0)
        let c = try NpyArray(path: ls + "/b.npy").toArray()
        try NpyWriter.write(c.flatMap { [$0, -3 * $0] }, shape: [2000, 2], to: ls + "/B.npy")
        let l = try run(["solve", "lstsq", "--matrix", ls + "/A.npy", "--rhs", ls + "/B.npy", "--power", "1", "--output", ls + "/X.npy"])
        XCTAssertEqual(l.status, 0, l.stderr)
        XCTAssertTrue(l.stdout.contains("block of 2"), l.stdout)
        let y = try NpyArray(path: ls + "/X.npy")
        XCTAssertEqual(y.shape, [6, 2])
        let w = y.toArray()
        for i in 0..<6 { XCTAssertEqual(w[2 * i + 1], -3 * w[2 * i], accuracy: 1e-9 * max(1, abs(w[2 * i]))) }
    }

    /// The same files, seed and default tile size give identical output bytes on 1 and 2 threads
    /// and on a repeated run, for each problem.
    /// An existing output is replaced as docs/CLI.md says: a read-only regular file by the new
    /// file (mode 0666 less the umask), a symbolic link by the new file while its target stays.
    func testExistingOutputsAreReplacedAsDocumented() throws {
        try NpyWriter.write([1, 0, 0, 1], shape: [2, 2], to: path("A.npy"))
        try NpyWriter.write([3, 4], shape: [2], to: path("b.npy"))
        try NpyWriter.write([9], shape: [1], to: path("old.npy"))
        chmod(path("old.npy"), 0o444)
        try Data("target".utf8).write(to: URL(fileURLWithPath: path("target.txt")))
        try FileManager.default.createSymbolicLink(atPath: path("link.npy"), withDestinationPath: path("target.txt"))
        for output in ["old.npy", "link.npy"] {
            let r = try run(["solve", "gram", "--matrix", path("A.npy"), "--rhs", path("b.npy"), "--output", path(output), "--quiet"])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(try NpyArray(path: path(output)).toArray(), [3, 4], output)
            let type = try FileManager.default.attributesOfItem(atPath: path(output))[.type] as? FileAttributeType
            XCTAssertEqual(type, .typeRegular, "\(output) is a regular file now")
        }
        XCTAssertEqual(try String(contentsOfFile: path("target.txt"), encoding: .utf8), "target", "the link's target is untouched")
    }

    /// x = 0 is an exact answer: b = 0 (and a zero column in a block) gives x = 0 certified with
    /// backward error / optimality / relative residual 0 and exit 0, for every problem and method.
    func testZeroRightHandSidesAreSolvedExactly() throws {
        let n = 300, d = 4
        let g = Philox4x32(seed: 17)
        try NpyWriter.write((0..<(n * d)).map { 0.5 * g.normal(index: UInt64($0), stream: 0) }, shape: [n, d], to: path("A.npy"))
        try NpyWriter.write([Double](repeating: 0, count: d), shape: [d], to: path("b0d.npy"))
        try NpyWriter.write([Double](repeating: 0, count: n), shape: [n], to: path("b0n.npy"))
        try NpyWriter.write([0, 1, 0, 2, 0, 3, 0, 4], shape: [d, 2], to: path("B.npy"))
        let runs: [[String]] = ["auto", "paper", "pcg", "direct", "cholesky"].flatMap { m in
            [["solve", "gram", "--matrix", path("A.npy"), "--rhs", path("b0d.npy"), "--method", m],
             ["solve", "gram", "--matrix", path("A.npy"), "--rhs", path("b0d.npy"), "--method", m, "--power", "3"],
             ["solve", "lstsq", "--matrix", path("A.npy"), "--rhs", path("b0n.npy"), "--method", m]]
        } + ["auto", "pcg", "direct", "paper"].map { m in
            ["solve", "attention", "--matrix", path("A.npy"), "--rhs", path("b0n.npy"), "--ridge", "0.1", "--method", m]
        } + [["solve", "gram", "--matrix", path("A.npy"), "--rhs", path("B.npy")]]
        for arguments in runs {
            let r = try run(arguments + ["--output", path("x.npy")])
            XCTAssertEqual(r.status, 0, "\(arguments.joined(separator: " ")): \(r.stdout)\(r.stderr)")
            XCTAssertFalse(r.stdout.contains("n/a"), r.stdout)
            XCTAssertFalse(r.stdout.contains("NOT met"), r.stdout)
            let x = try NpyArray(path: path("x.npy")).toArray()
            if arguments.contains(path("B.npy")) {
                XCTAssertEqual(Array(x.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)), [0, 0, 0, 0], "the zero column of the block")
            } else {
                XCTAssertEqual(x, [Double](repeating: 0, count: x.count), arguments.joined(separator: " "))
            }
        }
    }

    /// ‖A‖ = 1e±300: solved at unit scale. Where x is a float64 (lstsq, x ∝ 1/‖A‖) it is written
    /// with exit 0; where it is not (gram, x ∝ 1/‖A‖²) nothing is written, exit 3, one error line.
    func testMagnitudesAtTheFloatLimits() throws {
        let n = 400, d = 4
        let g = Philox4x32(seed: 23)
        let a = (0..<(n * d)).map { g.normal(index: UInt64($0), stream: 0) }
        try NpyWriter.write([1, 2, 3, 4], shape: [d], to: path("bd.npy"))
        try NpyWriter.write((0..<n).map { g.normal(index: UInt64($0), stream: 1) }, shape: [n], to: path("bn.npy"))
        for scale in [1e300, 1e-300] {
            try NpyWriter.write(a.map { $0 * scale }, shape: [n, d], to: path("A.npy"))
            let fine = try run(["solve", "lstsq", "--power", "0", "--matrix", path("A.npy"), "--rhs", path("bn.npy"), "--output", path("x.npy")])
            XCTAssertEqual(fine.status, 0, fine.stdout + fine.stderr)
            XCTAssertTrue(fine.stdout.contains("met"), fine.stdout)
            XCTAssertTrue(try NpyArray(path: path("x.npy")).toArray().allSatisfy { $0.isFinite && $0 != 0 })
            try FileManager.default.removeItem(atPath: path("x.npy"))
            let r = try run(["solve", "gram", "--matrix", path("A.npy"), "--rhs", path("bd.npy"), "--output", path("x.npy"),
                             "--report", path("r.json")])
            XCTAssertEqual(r.status, 3, r.stdout + r.stderr)
            let errors = r.stderr.split(separator: "\n").filter { $0.hasPrefix("tessera: error:") }
            XCTAssertEqual(errors.count, 1, r.stderr)
            XCTAssertTrue(errors.first?.contains("not representable in float64") ?? false, r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: path("x.npy")))
            XCTAssertFalse(FileManager.default.fileExists(atPath: path("r.json")))
        }
    }

    func testOutputBytesIdenticalAcrossThreadCountsAndRuns() throws {
        for (problem, generateExtra, solveExtra) in [("gram", ["--power", "2"], ["--power", "2"]),
                                                      ("lstsq", ["--power", "1"], ["--power", "1"]),
                                                      ("attention", ["--ridge", "0.001"], ["--ridge", "0.001"])] {
            let dir = path("bytes-" + problem)
            let rows = problem == "attention" ? "1200" : "20000"
            XCTAssertEqual(try run(["generate", problem, "--rows", rows, "--cols", "8", "--output-dir", dir, "--quiet"] + generateExtra).status, 0)
            var outputs: [Data] = []
            for (k, threads) in ["1", "2", "2"].enumerated() {
                let out = dir + "/x\(k).npy"
                let r = try run(["solve", problem, "--matrix", dir + "/A.npy", "--rhs", dir + "/b.npy", "--threads", threads,
                                 "--output", out, "--quiet"] + solveExtra)
                XCTAssertEqual(r.status, 0, "\(problem): \(r.stderr)")
                outputs.append(try Data(contentsOf: URL(fileURLWithPath: out)))
            }
            XCTAssertEqual(outputs[0], outputs[1], "\(problem): 1 and 2 threads")
            XCTAssertEqual(outputs[1], outputs[2], "\(problem): repeated run")
        }
    }

    /// `generate` streams A: the files have the same bytes on 1 and 2 threads, A's header says
    /// (n, d) in C order and the file is exactly header + n·d·8 bytes.
    func testGenerateWritesIdenticalBytesOnAnyThreadCountWithTheRightHeader() throws {
        for problem in ["gram", "lstsq"] {
            var files: [[Data]] = []
            for threads in ["1", "2"] {
                let dir = path("gen-\(problem)-\(threads)")
                let r = try run(["generate", problem, "--rows", "6000", "--cols", "200", "--condition", "1e3", "--threads", threads,
                                 "--output-dir", dir, "--quiet"])
                XCTAssertEqual(r.status, 0, r.stderr)
                files.append(try ["A.npy", "b.npy", "x_true.npy"].map { try Data(contentsOf: URL(fileURLWithPath: dir + "/" + $0)) })
                XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["A.npy", "b.npy", "x_true.npy"])
                let a = try NpyArray(path: dir + "/A.npy")
                XCTAssertEqual(a.shape, [6000, 200])
                XCTAssertFalse(a.fortranOrder)
                XCTAssertEqual(a.header.descr, "<f8")
                XCTAssertEqual(files.last?[0].count, a.header.dataOffset + 6000 * 200 * 8)
                XCTAssertEqual(try NpyArray(path: dir + "/b.npy").shape, [problem == "gram" ? 200 : 6000])
            }
            XCTAssertEqual(files[0], files[1], "\(problem): 1 and 2 threads")
        }
    }

    /// A write error on A (here: A.npy is a link to /dev/full) is the usual one-line io error,
    /// exit 2, and leaves neither b.npy, x_true.npy nor a temporary.
    func testGenerateOnAFullDeviceLeavesNothing() throws {
        let dir = path("full")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir + "/A.npy", withDestinationPath: "/dev/full")
        let r = try run(["generate", "lstsq", "--rows", "4000", "--cols", "16", "--output-dir", dir])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.hasPrefix("tessera: error: cannot write") && r.stderr.contains("No space left on device"), r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["A.npy"])
    }

    /// A singular K (duplicated rows) with λ = 0 and pcg at rank n: the shift floor lets the
    /// iteration run (it no longer divides by a zero shift), it cannot converge, and the run ends
    /// with exit 3, the best x written and a ridge hint — the contract for an iteration that ran.
    func testSingularKernelAtFullRankExitsThreeWithARidgeHint() throws {
        let n = 200, d = 4
        let g = Philox4x32(seed: 29)
        var rows: [Double] = []
        for i in 0..<(n / 2) {
            let row = (0..<d).map { g.normal(index: UInt64(i * d + $0), stream: 0) }
            let norm = row.norm2
            rows += row.map { $0 / norm }
        }
        try NpyWriter.write(rows + rows, shape: [n, d], to: path("repeated.npy"))
        try NpyWriter.write((0..<n).map { g.normal(index: UInt64($0), stream: 1) }, shape: [n], to: path("b.npy"))
        let r = try run(["solve", "attention", "--matrix", path("repeated.npy"), "--rhs", path("b.npy"), "--output", path("x.npy"),
                         "--method", "pcg", "--rank", "\(n)"])
        XCTAssertEqual(r.status, 3, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("--ridge"), r.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("x.npy")))
    }

    /// A run that cannot reach the tolerance writes x and exits 3.
    func testUnreachedToleranceExitsThreeWithOutput() throws {
        let dir = path("cap")
        XCTAssertEqual(try run(["generate", "lstsq", "--rows", "2000", "--cols", "8", "--power", "0", "--output-dir", dir]).status, 0)
        let r = try run(["solve", "lstsq", "--matrix", dir + "/A.npy", "--rhs", dir + "/b.npy", "--power", "0", "--method", "paper",
                         "--max-iterations", "1", "--output", dir + "/x.npy"])
        XCTAssertEqual(r.status, 3, r.stderr)
        XCTAssertTrue(r.stdout.contains("NOT met"), r.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/x.npy"))
    }

    func testSolveBadInputsExitTwoWithoutOutput() throws {
        let dir = path("bad")
        XCTAssertEqual(try run(["generate", "gram", "--rows", "500", "--cols", "4", "--output-dir", dir]).status, 0)
        try NpyWriter.write([1, 2, 3], shape: [3], to: dir + "/b3.npy")
        try NpyWriter.write([1, .nan, 3, 4], shape: [4], to: dir + "/bnan.npy")
        try NpyWriter.write((0..<12).map(Double.init), shape: [3, 4], to: dir + "/wide.npy")
        try NpyWriter.write((0..<40).map { Double($0 % 4 == 3 ? ($0 - 3) : $0) }, shape: [10, 4], to: dir + "/dup.npy")
        try NpyWriter.write((0..<10).map(Double.init), shape: [10], to: dir + "/b10.npy")
        let a = dir + "/A.npy", b = dir + "/b.npy", x = dir + "/x.npy"
        let cases: [([String], String)] = [
            (["solve", "gram", "--matrix", a, "--rhs", dir + "/b3.npy", "--output", x], "needs d (the columns of A) = 4"),
            (["solve", "gram", "--matrix", a, "--rhs", dir + "/bnan.npy", "--output", x], "non-finite"),
            (["solve", "gram", "--matrix", dir + "/wide.npy", "--rhs", dir + "/b3.npy", "--output", x], "n ≥ d"),
            (["solve", "gram", "--matrix", a, "--rhs", b, "--power", "0", "--output", x], "--power must lie in 1"),
            (["solve", "lstsq", "--matrix", a, "--rhs", b, "--output", x], "needs n (the rows of A) = 500"),
            (["solve", "gram", "--matrix", a, "--rhs", b, "--power", "1000", "--output", x], "--power must lie in"),
            (["solve", "gram", "--matrix", a, "--rhs", b, "--tolerance", "0", "--output", x], "--tolerance"),
            (["solve", "gram", "--matrix", a, "--rhs", b, "--tolerance", "1.5", "--output", x], "--tolerance"),
            (["solve", "gram", "--matrix", a, "--rhs", b, "--method", "magic", "--output", x], "magic"),
            (["solve", "lstsq", "--matrix", dir + "/dup.npy", "--rhs", dir + "/b10.npy", "--power", "0", "--rank-deficient", "refuse", "--output", x], "rank deficient"),
            (["solve", "gram", "--matrix", a, "--rhs", b, "--output", a], "both as an input and an output"),
            (["solve", "gram", "--matrix", a, "--rhs", b, "--output", dir + "/missing/x.npy"], "does not exist"),
        ]
        for (arguments, expected) in cases {
            let r = try run(arguments)
            XCTAssertEqual(r.status, 2, "\(arguments): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(expected), "\(arguments): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: x), "\(arguments)")
        }
    }

    func testGramMatrixWritesAtomicallyAndMatchesLoops() throws {
        let n = 500, d = 4
        let values = (0..<(n * d)).map { Double(($0 * 7919) % 101) / 50 - 1 }
        try NpyWriter.write(values, shape: [n, d], to: path("A.npy"))
        let r = try run(["gram-matrix", "--matrix", path("A.npy"), "--output", path("G.npy"),
                         "--threads", "2", "--tile-rows", "64", "--trace", path("t.json")])
        XCTAssertEqual(r.status, 0, r.stderr)
        let g = try NpyArray(path: path("G.npy"))
        XCTAssertEqual(g.shape, [d, d])
        var reference = [Double](repeating: 0, count: d * d)
        for i in 0..<d { for j in 0..<d { for k in 0..<n { reference[i * d + j] += values[k * d + i] * values[k * d + j] } } }
        for (x, y) in zip(g.toArray(), reference) { XCTAssertEqual(x, y, accuracy: 1e-12 * max(1, abs(y))) }
        let trace = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("t.json")))) as? [String: Any]
        XCTAssertGreaterThan((trace?["traceEvents"] as? [Any])?.count ?? 0, 0)
    }

    /// Bad input: one line on stderr, exit 2, no output file.
    func testBadInputGivesOneLineExitTwoAndNoOutput() throws {
        try Data("not numpy at all".utf8).write(to: URL(fileURLWithPath: path("bad.npy")))
        try NpyWriter.write([1, 2, 3, 4], shape: [2, 2], to: path("A.npy"))
        let cases: [([String], String)] = [
            (["gram-matrix", "--matrix", path("bad.npy"), "--output", path("G.npy")], "bad magic"),
            (["gram-matrix", "--matrix", path("missing.npy"), "--output", path("G.npy")], "cannot read"),
            (["gram-matrix", "--matrix", path("A.npy"), "--output", path("A.npy")], "both as an input and an output"),
            (["gram-matrix", "--matrix", path("A.npy"), "--output", path("G.npy"), "--tile-rows", "5"], "larger than the matrix"),
            (["gram-matrix", "--matrix", path("A.npy"), "--output", path("G.npy"), "--threads", "0"], "--threads must be at least 1"),
            (["gram-matrix", "--matrix", path("A.npy"), "--output", path("nodir/G.npy")], "does not exist"),
            (["gram-matrix", "--matrix", path("A.npy")], "Missing expected argument"),
            (["gram-matrix", "--matrix", path("A.npy"), "--output", path("G.npy"), "--threads", "two"], "--threads"),
            (["no-such-command"], "Unexpected argument"),
        ]
        for (arguments, expected) in cases {
            let r = try run(arguments)
            XCTAssertEqual(r.status, 2, "\(arguments): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(expected), "\(arguments): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: path("G.npy")))
        }
        XCTAssertEqual(try NpyArray(path: path("A.npy")).toArray(), [1, 2, 3, 4], "the input must survive")
    }
}

enum OpenBLASRuntimeProbe {
    static var hasAVX2: Bool { OpenBLASRuntime.cpuHasAVX2FMA || OpenBLASRuntime.cpuHasAVX512 }
}
