#if canImport(Glibc)
import Glibc
#endif

/// A contiguous, 64-byte aligned buffer of `Float`s that backs one or more tensors.
///
/// Buffers are recycled through ``BufferPool``: glibc hands large allocations to `mmap`
/// and returns them on free, so without reuse every op would fault its pages in again.
public final class Storage: @unchecked Sendable {
    /// Number of `Float`s the tensor uses.
    public let count: Int
    /// Number of `Float`s allocated (the pool's size class, ≥ `count`).
    let capacity: Int
    let pointer: UnsafeMutablePointer<Float>
    /// Whether the buffer is an anonymous mapping of its own (``init(lazyZeroCount:)``), not the pool's.
    private let mapped: Bool

    /// Uninitialized storage for `count` floats. Callers must write every element.
    init(uninitializedCount count: Int) {
        self.count = count
        let (pointer, capacity) = BufferPool.shared.take(count)
        self.pointer = pointer
        self.capacity = capacity
        self.mapped = false
    }

    /// Zeros that take no memory until written: a mapping of their own whose pages the kernel
    /// supplies on first touch. For models built only to read their structure (a checkpoint's
    /// architecture), whose weights are never read. Falls back to pooled zeros when mapping fails.
    init(lazyZeroCount count: Int) {
        self.count = count
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        if count > BufferPool.smallest,
           let raw = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0), raw != MAP_FAILED {
            self.pointer = raw.bindMemory(to: Float.self, capacity: count)
            self.capacity = count
            self.mapped = true
        } else {
            let (pointer, capacity) = BufferPool.shared.take(count)
            pointer.initialize(repeating: 0, count: count)
            self.pointer = pointer
            self.capacity = capacity
            self.mapped = false
        }
    }

    /// Storage filled with `value`.
    convenience init(count: Int, repeating value: Float) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: value, count: count)
    }

    deinit {
        if mapped {
            munmap(UnsafeMutableRawPointer(pointer), max(count, 1) * MemoryLayout<Float>.stride)
        } else {
            BufferPool.shared.give(pointer, capacity: capacity)
        }
    }

    @inline(__always) var buffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: pointer, count: count)
    }
}

/// Recycles freed tensor buffers by size class, up to a byte budget.
///
/// Size classes are 2^k and 1.5·2^k floats (at most a third wasted), so a training loop that
/// allocates the same shapes every step reuses the same buffers after its first step.
final class BufferPool: Sendable {
    static let shared = BufferPool(budgetBytes: 2 << 30)
    static let alignment = 64
    /// Buffers smaller than this go straight to malloc, which recycles them well itself.
    static let smallest = 4096

    /// A pooled buffer; only the pool touches it while it is pooled.
    private struct Free: @unchecked Sendable { let pointer: UnsafeMutablePointer<Float> }
    private struct State {
        var free: [Int: [Free]] = [:]
        var pooledBytes = 0
    }
    private let state: Locked<State>
    private let budgetBytes: Int

    init(budgetBytes: Int) {
        self.budgetBytes = budgetBytes
        self.state = Locked(State())
    }

    static func sizeClass(_ count: Int) -> Int {
        if count <= smallest { return max(count, 1) }
        let high = Int.bitWidth - 1 - (count - 1).leadingZeroBitCount  // 2^high < count ≤ 2^(high+1)
        let power = 1 << high
        return count <= power + power / 2 ? power + power / 2 : power << 1
    }

    func take(_ count: Int) -> (UnsafeMutablePointer<Float>, Int) {
        let capacity = Self.sizeClass(count)
        if capacity > Self.smallest {
            let reused: UnsafeMutablePointer<Float>? = state.withLock { state in
                guard let buffer = state.free[capacity]?.popLast() else { return nil }
                state.pooledBytes -= capacity * MemoryLayout<Float>.stride
                return buffer.pointer
            }
            if let reused { return (reused, capacity) }
        }
        return (Self.allocate(capacity), capacity)
    }

    /// Buffers of at least this many bytes get a mapping of their own, returned to the system when
    /// freed. glibc would place those below its moving mmap threshold (up to 32 MB) in its heap,
    /// where one-off buffers freed in a varying order (a model file's tensors, decoded and then
    /// rearranged) stay resident as holes.
    static let mappedBytes = 1 << 20

    private static func allocate(_ capacity: Int) -> UnsafeMutablePointer<Float> {
        let bytes = capacity * MemoryLayout<Float>.stride
        if bytes >= mappedBytes, let raw = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), raw != MAP_FAILED {
            return raw.bindMemory(to: Float.self, capacity: capacity)
        }
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: alignment)
        if bytes >= mappedBytes { heapFallbacks.withLock { _ = $0.insert(UInt(bitPattern: raw)) } }
        return raw.bindMemory(to: Float.self, capacity: capacity)
    }

    /// Large buffers that came from malloc because mapping failed.
    private static let heapFallbacks = Locked(Set<UInt>())

    private static func deallocate(_ pointer: UnsafeMutablePointer<Float>, capacity: Int) {
        let bytes = capacity * MemoryLayout<Float>.stride
        if bytes >= mappedBytes, heapFallbacks.withLock({ $0.remove(UInt(bitPattern: pointer)) == nil }) {
            munmap(UnsafeMutableRawPointer(pointer), bytes)
        } else {
            UnsafeMutableRawPointer(pointer).deallocate()
        }
    }

    func give(_ pointer: UnsafeMutablePointer<Float>, capacity: Int) {
        let bytes = capacity * MemoryLayout<Float>.stride
        if capacity > Self.smallest {
            let buffer = Free(pointer: pointer)
            let kept = state.withLock { state in
                guard state.pooledBytes + bytes <= budgetBytes else { return false }
                state.free[capacity, default: []].append(buffer)
                state.pooledBytes += bytes
                return true
            }
            if kept { return }
        }
        Self.deallocate(pointer, capacity: capacity)
    }

    /// Frees every pooled buffer (for tests and for handing memory back after a big job).
    func drain() {
        let pointers = state.withLock { state in
            let all = state.free.flatMap { capacity, buffers in buffers.map { (capacity, $0) } }
            state.free = [:]
            state.pooledBytes = 0
            return all
        }
        for (capacity, buffer) in pointers { Self.deallocate(buffer.pointer, capacity: capacity) }
    }

    var pooledBytes: Int { state.withLock { $0.pooledBytes } }
}

extension Tensor {
    /// Hands the buffers the pool keeps for reuse back to the system: for a reader that frees many
    /// one-off tensors of different sizes (each would stay resident in the pool).
    public static func releasePooledBuffers() { BufferPool.shared.drain() }
}
