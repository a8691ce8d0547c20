import Benchmark
import Foundation
import Tessera
import TesseraIO
import TesseraKernels

/// One shape: a generated A (κ = 1e3) written as A.npy, then for each power Tessera's `auto`
/// (loaded from the same file, timed from prepare to verified solution) and the Python peers
/// (timed by the peer script around their own calls), with accuracies and ratios printed. Each
/// side runs up to three times (once when a run takes over 5 s) and reports its median.
struct PeerComparison {
    static let metrics: [BenchmarkMetric] = [
        .custom("tessera ms"), .custom("fastest peer ms"), .custom("speedup vs fastest peer x100", polarity: .prefersLarger),
    ]
    let shape: Shape

    func run(_ problem: TallProblem, powers: [Int], into benchmark: Benchmark) throws {
        let engine = try Engine()
        let dir = NSTemporaryDirectory() + "tessera-bench-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let generated = try ProblemGenerator.make(problem, rows: shape.rows, cols: shape.cols, condition: 1e3,
                                                  power: problem == .gram ? 1 : 0, seed: 1, engine: engine)
        try NpyWriter.write(generated.matrix, to: dir + "/A.npy")
        let a = try TiledMatrix.load(NpyArray(path: dir + "/A.npy"), tileRows: nil, engine: engine)
        print("\n\(problem.rawValue) \(shape.rows) × \(shape.cols), κ = 1e3, \(engine.workerCount) workers, OpenBLAS core \(OpenBLASRuntime.coreName)")
        print("  j  route                 time (s)   accuracy   peer/tessera")
        for j in powers {
            let b: [Double]
            if problem == .gram {
                b = try TallOperator(matrix: a, engine: engine).applyGramPower(generated.solution, j)
            } else {
                b = generated.rhs
            }
            try NpyWriter.write(b, shape: [b.count], to: dir + "/b.npy")
            // Like the peers: up to three runs (one if a run takes over 5 s), the median reported.
            var times: [Double] = [], verifications: [Double] = []
            var s: Solution
            repeat {
                let t0 = MonotonicClock.nanoseconds()
                let solver = try TallSolver(matrix: a, engine: engine, problem: .tall(problem, power: j))
                s = try solver.solve(b)
                times.append(Double(MonotonicClock.nanoseconds() - t0) / 1e9)
                verifications.append(s.report.seconds.verify ?? 0)
            } while times.count < 3 && (times.last ?? 0) <= 5
            let tessera = times.sorted()[times.count / 2]
            // The peers do not verify; Tessera's time includes its verification passes over A.
            let unverified = zip(times, verifications).map { $0 - $1 }.sorted()[times.count / 2]
            let floor = s.report.accuracyFloor > 1e-13 ? "  (float64 floor for this x: \(Format.sci(s.report.accuracyFloor)))" : ""
            print("  \(j)  tessera auto→\(s.report.method.rawValue)".padding(33) + Format.fixed(tessera, 3).padding(11)
                  + Format.sci(s.report.accuracy) + floor)
            print("  \(j)    (before verification)".padding(33) + Format.fixed(unverified, 3))
            let routes = problem == .gram ? ["numpy-normal", "scipy-qr"] : ["numpy-lstsq", "scipy-gelsy"]
            var fastest = Double.infinity
            for peer in try Peers.run(problem: problem, a: dir + "/A.npy", b: dir + "/b.npy", power: j, routes: routes) {
                if let seconds = peer.seconds {
                    fastest = min(fastest, seconds)
                    print("  \(j)  \(peer.route)".padding(33) + Format.fixed(seconds, 3).padding(11)
                          + Format.sci(peer.accuracy ?? .nan).padding(11) + Format.fixed(seconds / tessera, 2) + "×"
                          + " (\(Format.fixed(seconds / unverified, 2))× before verification)")
                } else {
                    print("  \(j)  \(peer.route)".padding(33) + "failed: \(peer.error ?? "?")")
                }
            }
            benchmark.measurement(.custom("tessera ms"), Int(tessera * 1000))
            if fastest.isFinite {
                benchmark.measurement(.custom("fastest peer ms"), Int(fastest * 1000))
                benchmark.measurement(.custom("speedup vs fastest peer x100", polarity: .prefersLarger), Int(100 * fastest / tessera))
            }
        }
    }
}

/// Runs Benchmarks/peers/gram_lstsq_peers.py and parses its JSON lines.
enum Peers {
    struct Result: Decodable {
        let route: String
        let seconds: Double?
        let accuracy: Double?
        let error: String?
    }

    static var script: String {
        let here = URL(fileURLWithPath: #filePath)
        return here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("peers/gram_lstsq_peers.py").path
    }

    static func run(problem: TallProblem, a: String, b: String, power: Int, routes: [String]) throws -> [Result] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script, problem.rawValue, a, b, String(power)] + routes
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_NUM_THREADS"] = env["OPENBLAS_NUM_THREADS"] ?? String(ProcessInfo.processInfo.activeProcessorCount)
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        var results = String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap {
            try? JSONDecoder().decode(Result.self, from: Data($0.utf8))
        }
        if p.terminationStatus != 0 {
            results.append(Result(route: "python", seconds: nil, accuracy: nil, error: "peer script exited \(p.terminationStatus) (crash?)"))
        }
        return results
    }
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(1, width - count)) }
}
