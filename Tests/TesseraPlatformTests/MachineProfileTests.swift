import XCTest
import Foundation
@testable import TesseraPlatform
import TesseraCore

final class MachineProfileTests: XCTestCase {
    /// hwloc's account of this machine against the kernel's own: the hardware threads of all
    /// domains are exactly the CPUs this process may run on (Cpus_allowed_list), the cores are
    /// between half and all of them, and the domains' memory adds up to MemTotal (±10%) where
    /// hwloc reports it.
    func testRealMachineMatchesTheKernelsAccount() throws {
        let p = try MachineProfile.current()
        XCTAssertFalse(p.isSynthetic)
        XCTAssertEqual(p.domains.map(\.index), Array(0..<p.domainCount))
        let allowed = affinity().count
        XCTAssertEqual(p.domains.reduce(0) { $0 + $1.processingUnitCount }, allowed, "hardware threads vs Cpus_allowed_list")
        XCTAssertLessThanOrEqual(p.coreCount, allowed)
        XCTAssertGreaterThanOrEqual(2 * p.coreCount, allowed, "at most two hardware threads per core")
        let memory = p.domains.reduce(UInt64(0)) { $0 + $1.localMemoryBytes }
        if memory > 0, let info = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
           let line = info.split(separator: "\n").first(where: { $0.hasPrefix("MemTotal:") }),
           let kib = Double(line.split(separator: " ").dropFirst().first ?? "") {
            XCTAssertEqual(Double(memory), kib * 1024, accuracy: 0.1 * kib * 1024, "domain memory vs MemTotal")
        }
    }

    func testSyntheticTwoPackagesTwoNUMAEach() throws {
        let p = try MachineProfile.synthetic("pack:2 numa:2 core:4 pu:1")
        XCTAssertTrue(p.isSynthetic)
        XCTAssertEqual(p.domainCount, 4)
        XCTAssertEqual(p.domains.map(\.coreCount), [4, 4, 4, 4])
        XCTAssertEqual(p.coreCount, 16)
        XCTAssertFalse(p.placementMatters, "a synthetic machine must never bind real threads or memory")
    }

    /// The calling thread's CPU mask, as the set of CPU numbers (from the kernel's own account,
    /// `Cpus_allowed_list` in /proc/thread-self/status, e.g. "0-3,8").
    private func affinity() -> Set<Int> {
        guard let status = try? String(contentsOfFile: "/proc/thread-self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }) else { return [] }
        var cpus = Set<Int>()
        for part in line.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces).split(separator: ",") {
            let bounds = part.split(separator: "-").compactMap { Int($0) }
            if bounds.count == 1 { cpus.insert(bounds[0]) } else if bounds.count == 2 { cpus.formUnion(bounds[0]...bounds[1]) }
        }
        return cpus
    }

    /// Binding a thread to each NUMA domain sets its CPU mask to that domain's hardware threads
    /// (disjoint across domains) and restores the previous mask when the binding ends. On a
    /// one-domain machine binding is a no-op by design, which is checked before the rest is
    /// skipped with the reason.
    func testThreadBindingSetsAndRestoresTheMask() throws {
        let p = try MachineProfile.current()
        let before = affinity()
        XCTAssertFalse(before.isEmpty)
        guard p.placementMatters else {
            do {
                let binding = ThreadBinding(domain: 0, profile: p)
                XCTAssertFalse(binding.isActive)
                XCTAssertEqual(affinity(), before)
            }
            throw XCTSkip("this machine has \(p.domainCount) NUMA domain: binding is a no-op (checked); per-domain masks need several domains")
        }
        var seen = Set<Int>()
        for d in 0..<p.domainCount {
            do {
                let binding = ThreadBinding(domain: d, profile: p)
                XCTAssertTrue(binding.isActive, "domain \(d)")
                let mask = affinity()
                XCTAssertEqual(mask.count, p.domains[d].processingUnitCount, "domain \(d)")
                XCTAssertTrue(mask.isDisjoint(with: seen), "domain \(d) shares CPUs with another")
                seen.formUnion(mask)
            }
            XCTAssertEqual(affinity(), before, "the mask is restored after domain \(d)")
        }
    }

    func testBadSyntheticDescriptionIsAnError() {
        XCTAssertThrowsError(try MachineProfile.synthetic("pack:zero banana")) {
            XCTAssertTrue(($0 as? TesseraError)?.message.contains("invalid synthetic topology \"pack:zero banana\"") ?? false, "\($0)")
        }
    }

    func testPlacedMemoryRecordsRequestedDomainAndIsZeroed() throws {
        let p = try MachineProfile.synthetic("pack:2 numa:2 core:2 pu:1")
        for d in 0..<p.domainCount {
            let m = try PlacedMemory(count: 1000, domain: d, profile: p)
            XCTAssertEqual(m.requestedDomain, d)
            XCTAssertEqual(m.placement, .unbound)
            XCTAssertTrue((0..<1000).allSatisfy { m.baseAddress[$0] == 0 })
        }
    }

    /// On the real machine the touched pages of a block requested from domain 0 live on a real
    /// domain (domain 0 on a one-domain machine).
    func testResidentDomainsOfTouchedMemory() throws {
        let p = try MachineProfile.current()
        let m = try PlacedMemory(count: 1 << 20, domain: 0, profile: p)
        for i in stride(from: 0, to: m.count, by: 512) { m.baseAddress[i] = 1 }
        let where_ = m.residentDomains(profile: p)
        if p.domainCount == 1 { XCTAssertEqual(where_, [0]) } else { XCTAssertTrue(where_.contains(0)) }
    }

    func testImpossibleAllocationIsRefused() throws {
        let p = try MachineProfile.current()
        XCTAssertThrowsError(try PlacedMemory(count: Int.max / 4, domain: 0, profile: p)) { error in
            guard case .resourceLimit = error as? TesseraError else { return XCTFail("\(error)") }
        }
    }

    func testBindingIsANoOpOnSingleDomainOrSynthetic() throws {
        let synthetic = try MachineProfile.synthetic("pack:2 numa:2 core:4 pu:1")
        let b = ThreadBinding(domain: 1, profile: synthetic)
        XCTAssertFalse(b.isActive)
        let real = try MachineProfile.current()
        if real.domainCount == 1 { XCTAssertFalse(ThreadBinding(domain: 0, profile: real).isActive) }
    }

    func testAvailableMemoryIsReadable() {
        XCTAssertGreaterThan(MachineProfile.availableMemoryBytes() ?? 0, 1 << 20)
    }
}
