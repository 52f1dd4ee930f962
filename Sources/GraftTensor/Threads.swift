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
    /// The calling thread takes chunks too, beside graft's worker threads (``WorkerPool``); a call
    /// made while another thread's loop holds the workers runs its chunks serially.
    @inline(__always)
    static func parallelFor(_ total: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        guard total > 0 else { return }
        let grain = max(grain, 1)
        let chunks = min((total + grain - 1) / grain, 64)
        guard chunks > 1, count > 1, !isInsideParallelRegion, let pool = WorkerPool.acquire(helpers: min(count, defaultCount) - 1) else {
            if chunks <= 1 { body(0..<total); return }
            for chunk in 0..<chunks { body(chunkRange(chunk, chunks: chunks, total: total)) }
            return
        }
        withoutActuallyEscaping(body) { body in
            pool.run(chunks: chunks, total: total, UncheckedBody(body: body))
        }
        WorkerPool.release()
    }

    /// ``parallelFor(_:grain:_:)`` for the other modules (an optimizer's update): `body` on disjoint
    /// chunks of `0..<total` whose boundaries depend only on `total` and `grain`, over the threads.
    public static func forEachChunk(_ total: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        parallelFor(total, grain: grain, body)
    }

    /// True on a worker of `parallelFor`: nested loops run serially there (the cores are already busy).
    @TaskLocal static var isInsideParallelRegion = false

    /// Whether work split into `units` independent pieces (images of a batch) should run one piece per
    /// thread, each piece's GEMMs on its own thread, rather than one piece at a time with every thread in each GEMM.
    static func prefersOuterParallelism(units: Int) -> Bool {
        count > 1 && units >= count && !isInsideParallelRegion
    }

    @inline(__always) static func chunkRange(_ chunk: Int, chunks: Int, total: Int) -> Range<Int> {
        (total * chunk / chunks)..<(total * (chunk + 1) / chunks)
    }

    struct UncheckedBody: @unchecked Sendable {
        let body: (Range<Int>) -> Void
    }
}

/// graft's worker threads: `Threads.count − 1` of them (at most the cores less one), started on
/// first use, each taking chunks of the calling thread's loop beside it.
///
/// A loop is published by one atomic word (generation, chunk count, next unclaimed chunk); a thread
/// claims a chunk by compare-and-swap, and the caller waits until every chunk has finished.
/// Between loops the workers spin on that word for `spin` before sleeping on a condition variable:
/// a kernel's loops follow one another within microseconds, and waking a sleeping thread costs tens
/// of microseconds on these machines (Dispatch's `concurrentPerform` paid that on every loop: 40 to
/// 90 µs a loop on two cores, more than a small loop's own work).
final class WorkerPool: @unchecked Sendable {
    let helpers: Int
    /// generation << 16 | chunks << 8 | next unclaimed chunk.
    private let state = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)
    private let retired = Atomic<Bool>(false)
    /// The loop in progress: written by the caller before it publishes the generation, read by a
    /// thread only after it has claimed one of that generation's chunks (which keeps the caller waiting).
    private var body: Threads.UncheckedBody?
    private var total = 0
    private var generation = 0
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var sleepers = 0  // under `lock`
    /// How long an idle worker spins before it sleeps.
    static let spin: UInt64 = 500_000  // ns

    private init(helpers: Int) {
        self.helpers = helpers
        pthread_mutex_init(lock, nil)
        pthread_cond_init(wake, nil)
        for _ in 0..<helpers {
            let thread = Thread { [self] in
                Threads.$isInsideParallelRegion.withValue(true) { work() }
            }
            thread.name = "graft worker"
            thread.start()
        }
    }

    /// Runs once the retired pool's workers have exited (each holds the pool until then).
    deinit {
        pthread_cond_destroy(wake)
        pthread_mutex_destroy(lock)
        wake.deallocate()
        lock.deallocate()
    }

    // The pool in use and whether a loop holds it; replaced when the thread count changes.
    private static let registry = Mutex<(pool: WorkerPool?, busy: Bool)>((nil, false))

    /// The pool with `helpers` workers, held by the caller until `release()`; nil when there are no
    /// helpers to ask or another thread's loop holds the workers.
    static func acquire(helpers: Int) -> WorkerPool? {
        guard helpers > 0 else { return nil }
        return registry.withLock { state -> WorkerPool? in
            if state.busy { return nil }
            if state.pool?.helpers != helpers {
                state.pool?.retire()
                state.pool = WorkerPool(helpers: helpers)
            }
            state.busy = true
            return state.pool
        }
    }

    static func release() { registry.withLock { $0.busy = false } }

    /// Runs every chunk, on the calling thread and the workers; returns when all have finished.
    func run(chunks: Int, total: Int, _ body: Threads.UncheckedBody) {
        precondition(chunks < 256, "at most 255 chunks a loop")
        self.body = body
        self.total = total
        finished.store(0, ordering: .relaxed)
        generation = (generation &+ 1) & 0xff_ffff_ffff
        state.store(generation << 16 | chunks << 8, ordering: .releasing)
        pthread_mutex_lock(lock)
        if sleepers > 0 { pthread_cond_broadcast(wake) }
        pthread_mutex_unlock(lock)
        Threads.$isInsideParallelRegion.withValue(true) { claimChunks(of: generation) }
        // The rest are running on workers: wait for them (yielding now and then, in case one was preempted).
        var spins = 0
        while finished.load(ordering: .acquiring) < chunks {
            spins &+= 1
            if spins & 4095 == 0 { sched_yield() }
        }
        self.body = nil
    }

    /// Claims and runs chunks of `generation` until none is left.
    @inline(__always)
    private func claimChunks(of generation: Int) {
        while true {
            let word = state.load(ordering: .acquiring)
            let (chunks, next) = ((word >> 8) & 0xff, word & 0xff)
            guard word >> 16 == generation, next < chunks else { return }
            if state.compareExchange(expected: word, desired: word &+ 1, ordering: .acquiringAndReleasing).exchanged {
                body?.body(Threads.chunkRange(next, chunks: chunks, total: total))
                finished.add(1, ordering: .releasing)
            }
        }
    }

    private func work() {
        var seen = 0
        while !retired.load(ordering: .acquiring) {
            // Wait for a new generation: spin, then sleep.
            var spins = 0
            var started: UInt64 = 0
            while state.load(ordering: .acquiring) >> 16 == seen && !retired.load(ordering: .relaxed) {
                spins &+= 1
                guard spins & 127 == 0 else { continue }
                let now = Self.nanoseconds()
                if started == 0 { started = now; continue }
                if now &- started > Self.spin {
                    pthread_mutex_lock(lock)
                    while state.load(ordering: .acquiring) >> 16 == seen && !retired.load(ordering: .relaxed) {
                        sleepers += 1
                        pthread_cond_wait(wake, lock)
                        sleepers -= 1
                    }
                    pthread_mutex_unlock(lock)
                }
            }
            seen = state.load(ordering: .acquiring) >> 16
            claimChunks(of: seen)
        }
    }

    /// Stops the workers (they finish any chunk they hold, then exit).
    private func retire() {
        retired.store(true, ordering: .releasing)
        pthread_mutex_lock(lock)
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(lock)
    }

    private static func nanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }
}
