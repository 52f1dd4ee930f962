import Dispatch
import Foundation
import Synchronization

/// The engine's thread count: graft's own kernels and its GEMM (in native numerics OpenBLAS itself runs single-threaded on graft's blocks).
///
/// Work is split into chunks whose boundaries depend only on the problem size, never on the
/// thread count, and every chunk writes its own outputs: results are bit-identical from run
/// to run, and a reduction gives the same bits with 1 or 2 threads.
public enum Threads {
    private static let current = Atomic<Int>(defaultCount)

    /// The machine's core count (at most 64).
    public static var defaultCount: Int { min(max(ProcessInfo.processInfo.activeProcessorCount, 1), 64) }

    /// Threads used by GEMM and by graft's kernels.
    public static var count: Int { current.load(ordering: .relaxed) }

    /// Sets the thread count for graft's kernels and GEMM.
    public static func set(_ count: Int) throws(TensorError) {
        guard (1...256).contains(count) else {
            throw .invalidArgument(op: "threads", reason: "thread count must be in 1...256, got \(count)")
        }
        current.store(count, ordering: .relaxed)
    }

    /// Calls `body` on disjoint ranges covering `0..<total`, each at least `grain` long, in
    /// parallel when the thread count allows. Chunk boundaries depend only on `total` and `grain`.
    /// More chunks than threads are used (dynamic scheduling), so a busy core slows its share only.
    @inline(__always)
    static func parallelFor(_ total: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        guard total > 0 else { return }
        let grain = max(grain, 1)
        let chunks = min((total + grain - 1) / grain, 64)
        if chunks <= 1 || count == 1 || isInsideParallelRegion {
            if chunks <= 1 { body(0..<total); return }
            for chunk in 0..<chunks { body(chunkRange(chunk, chunks: chunks, total: total)) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let task = UncheckedBody(body: body)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                $isInsideParallelRegion.withValue(true) {
                    task.body(chunkRange(chunk, chunks: chunks, total: total))
                }
            }
        }
    }

    /// True on a worker of `parallelFor`: nested loops run serially there (the cores are already busy).
    @TaskLocal static var isInsideParallelRegion = false

    /// Whether work split into `units` independent pieces (images of a batch) should run one piece per
    /// thread, each piece's GEMMs on its own thread, rather than one piece at a time with every thread in each GEMM.
    static func prefersOuterParallelism(units: Int) -> Bool {
        count > 1 && units >= count && !isInsideParallelRegion
    }

    @inline(__always) private static func chunkRange(_ chunk: Int, chunks: Int, total: Int) -> Range<Int> {
        (total * chunk / chunks)..<(total * (chunk + 1) / chunks)
    }

    private struct UncheckedBody: @unchecked Sendable {
        let body: (Range<Int>) -> Void
    }
}
