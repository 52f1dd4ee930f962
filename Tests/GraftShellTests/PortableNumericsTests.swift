import Foundation
import Testing
@testable import GraftShell
import GraftTensor

/// Portable numerics: a session gives the same bits whatever OpenBLAS's kernel family. The graft
/// executable replays a recorded session, verified, once per kernel family this CPU can run
/// (`OPENBLAS_CORETYPE` must be set before OpenBLAS loads, hence a child process each), and with
/// graft's AVX-512 GEMM switched off; every figure, weight digests included, must be identical to
/// the recording — which was made on another machine (see the fixture's header).
@Suite("Portable numerics across OpenBLAS kernel families", .serialized)
struct PortableNumericsTests {
    static let fixture = "Tests/Fixtures/sessions/portable-numerics.graft"
    let executables = ExecutableTests()

    /// OpenBLAS 0.3.21's kernel families and the CPU features each needs (its `dynamic.c`).
    static let families: [(name: String, needs: [String])] = [
        ("Prescott", ["pni"]) /* SSE3, as /proc/cpuinfo names it */, ("Nehalem", ["sse4_2"]), ("Sandybridge", ["avx"]),
        ("Haswell", ["avx2", "fma"]), ("Zen", ["avx2", "fma"]),
        ("SkylakeX", ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]),
        ("Cooperlake", ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "avx512_bf16"]),
    ]

    static var runnable: [String] {
        let flags = CPUFeatures.flags
        return families.filter { $0.needs.allSatisfy(flags.contains) }.map(\.name)
    }

    func replay(environment: [String: String]) throws -> (status: Int32, output: String) {
        try executables.run(["run", "--verify", Self.fixture], environment: environment.filter { $0.key != "OPENBLAS_CORETYPE" || Self.preset == nil })
    }

    /// Some machines set `OPENBLAS_CORETYPE` on purpose (an older OpenBLAS crashes or computes wrong
    /// results on their CPUs): there the tests keep it and replay under that family alone.
    static let preset: String? = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"].flatMap { $0.isEmpty ? nil : $0 }

    @Test func everyKernelFamilyGivesTheRecordedBits() throws {
        let families = Self.preset.map { [$0] } ?? Self.runnable
        #expect(Self.preset != nil || families.contains("Haswell"), "graft needs AVX2 and FMA")
        for family in families {
            let (status, output) = try replay(environment: ["OPENBLAS_CORETYPE": family])
            // OpenBLAS took the family (the settings listing names its kernels) and nothing moved.
            if Self.preset == nil { #expect(output.contains("OpenBLAS's kernels here: \(family)"), "\(family): \(output.suffix(300))") }
            #expect(status == 0 && output.contains("figures: 5 identical") && !output.contains("within tolerance"),
                    "OPENBLAS_CORETYPE=\(family): \(output.suffix(600))")
        }
    }

    /// `set precision=bf16` leaves portable numerics: on a CPU with AVX-512 BF16 the replay's figures
    /// are compared by their rules, never claimed as a portable-bits bug; elsewhere the setting is
    /// refused by name and the replay stops there.
    @Test func bfloat16IsComparedByItsRulesOrRefused() throws {
        let text = try String(contentsOfFile: Self.fixture, encoding: .utf8).replacingOccurrences(of: "\nset\n", with: "\nset\nset precision=bf16\n")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bf16-\(UUID().uuidString).graft").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        if Precision.available {
            let (_, output) = try executables.run(["run", "--verify", "--keep-going", path], environment: [:])
            #expect(output.contains("precision bf16"), "\(output.suffix(800))")
            #expect(!output.contains("bug in graft"), "\(output.suffix(800))")
            #expect(!output.contains("figures: 5 identical"), "bfloat16 products should move the figures: \(output.suffix(800))")
        }
        // Without AVX-512 BF16 (or told to act so), the line fails by name and the replay stops there.
        let (status, output) = try executables.run(["run", "--verify", path], environment: ["GRAFT_BF16": "off"])
        #expect(status != 0 && output.contains("bf16 needs a CPU with AVX-512 BF16") && !output.contains("new mnist-cnn"), "\(output.suffix(800))")
    }

    @Test func theAVX2KernelsGiveTheSameBitsAsTheAVX512Ones() throws {
        let (status, output) = try replay(environment: ["GRAFT_WIDE_KERNELS": "off"])
        #expect(!output.contains("with AVX-512"))
        #expect(status == 0 && output.contains("figures: 5 identical"), "\(output.suffix(600))")
    }

    /// Native numerics use OpenBLAS's kernels: a recording in portable numerics replayed there is
    /// compared within tolerances, each figure saying which rule it took.
    @Test func nativeNumericsCompareWithinTolerances() throws {
        let text = try String(contentsOfFile: Self.fixture, encoding: .utf8).replacingOccurrences(of: "\nset\n", with: "\nset numerics=native\n")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("native-\(UUID().uuidString).graft").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let family = Self.preset ?? "Prescott"
        let (_, output) = try executables.run(["run", "--verify", "--keep-going", path], environment: ["OPENBLAS_CORETYPE": family])
        #expect(output.contains("numerics native (blas"))
        // OpenBLAS's kernels round differently: what differs is compared by its rule, and no portable claim is made.
        #expect(!output.contains("bug in graft"), "\(output.suffix(800))")
        if !output.contains("figures: 5 identical") {
            #expect(output.contains("weights digest differs (not compared across machines)") && output.contains("within tolerance"), "\(output.suffix(800))")
        }
    }
}
