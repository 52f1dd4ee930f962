import CGraftKernels
import GraftWideKernels

/// graft's own single-precision GEMM, the engine's portable numerics (see ``GEMM``).
///
/// C = op(A)·op(B) (`accumulate` false) or C + op(A)·op(B) (`accumulate` true). Every element of C
/// is **one chain of fused multiply-adds over k in increasing order**, started from 0 or from C:
///
///     c ← c₀;  for p in 0..<k { c ← fma(a[i, p], b[p, j], c) }
///
/// Blocking (KC × MC × NB panels), the micro-tile's shape, the vector width (8 lanes with AVX2,
/// 16 with AVX-512) and the split over threads only decide *which* outputs are computed together
/// and when, never the order of one output's terms: between k-blocks the running sum waits in C
/// itself, exactly as it was in the register. So the bits are a function of the operands alone, the
/// same on every x86-64 CPU with AVX2 and FMA, for any thread count.
///
/// Layout follows BLIS: for each block of KC steps, B is packed into panels of `nr` columns
/// (k-major, zero-padded), each task packs its MC rows of A into panels of `mr` rows, and the
/// micro-kernel multiplies one A panel by one B panel into an `mr` × `nr` tile of C.
enum PortableGEMM {
    /// Steps of k per packed block (a B micro-panel of KC × nr floats stays in L1).
    static let kc = 256
    /// Rows of C per task (an A block of MC × KC floats stays in L2); a multiple of both tiles' rows.
    static let mc = 96
    /// Columns of C per task.
    static let nb = 256

    /// Whether the 16-lane AVX-512 micro-kernel runs (when the CPU has it). It computes the same
    /// chains as the 8-lane one, 32 columns at a time instead of 16: tests switch it off and compare.
    static let wide = CPUFeatures.wideKernels

    /// A micro-kernel and its tile of C. The bfloat16 kernel's panels hold a pair of k steps in
    /// each 32-bit element, so its packed depth (`steps`) is half of k's, rounded up.
    struct Tile: Equatable {
        enum Kernel { case narrow, wide, bf16 }
        let kernel: Kernel, mr: Int, nr: Int
        static let narrow = Tile(kernel: .narrow, mr: 6, nr: 16)
        static let wide = Tile(kernel: .wide, mr: WideGEMM.mr, nr: WideGEMM.nr)
        /// `set precision=bf16`: AVX-512 BF16, only after `Precision.available`'s run-time check.
        static let bf16 = Tile(kernel: .bf16, mr: Int(graft_bf16_mr), nr: Int(graft_bf16_nr))
        static let largest = [narrow, wide, bf16].map { $0.mr * $0.nr }.max() ?? 0
        /// The float32 tile for this CPU.
        static var float32: Tile { PortableGEMM.wide ? .wide : .narrow }

        /// Packed 32-bit elements for `depth` steps of k.
        func steps(_ depth: Int) -> Int { kernel == .bf16 ? (depth + 1) / 2 : depth }
    }

    static func sgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                      _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                      accumulate: Bool, _ c: UnsafeMutablePointer<Float>, ldc: Int, tile: Tile = .float32,
                      finish: GEMM.Finish? = nil) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            if !accumulate { for row in 0..<m { (c + row * ldc).initialize(repeating: 0, count: n) } }
            finish?(0..<m, 0..<n)
            return
        }
        let rowBlocks = (m + mc - 1) / mc
        let panelsB = (n + tile.nr - 1) / tile.nr
        // One block of rows (a pointwise convolution: m output channels, n pixels) reads B where it
        // lies, each step's nr columns one row of B, instead of packing all of B for a single use per
        // A panel; only a last partial panel is packed, per task. The chains are the same.
        let direct = !transposeB && tile == .narrow && rowBlocks == 1
        let packedB = Storage(uninitializedCount: direct ? 0 : panelsB * tile.nr * tile.steps(kc))
        let large = Double(m) * Double(n) * Double(k) >= Double(1 << 19)
        nonisolated(unsafe) let (b, pb) = (b, packedB.pointer)
        var p0 = 0
        while p0 < k {
            let depth = Swift.min(kc, k - p0)
            let block = Block(tile: tile, transposeA: transposeA, m: m, n: n, k0: p0, depth: depth, a: a, lda: lda,
                              b: direct ? .inPlace(b + p0 * ldb, ldb: ldb) : .packed(pb), c: c, ldc: ldc,
                              accumulate: accumulate || p0 > 0, finish: p0 + depth == k ? finish : nil)
            let first = p0
            if large {
                if !direct {
                    Threads.parallelFor(panelsB, grain: 4) { panels in
                        packPanels(transposeB, b, ldb, k0: first, depth: depth, n: n, panels, tile: tile, into: pb)
                    }
                }
                Threads.parallelFor(block.tasks, grain: 1) { block.run($0) }
            } else {
                if !direct { packPanels(transposeB, b, ldb, k0: first, depth: depth, n: n, 0..<panelsB, tile: tile, into: pb) }
                block.run(0..<block.tasks)
            }
            p0 += depth
        }
        withExtendedLifetime(packedB) {}
    }

    /// op(B) [k, n] packed once, every block of k, into `tile`'s panels: one matrix multiplied by many
    /// A's, serially (the bands of a fused block, each on its own thread). ``sgemm(m:_:lda:_:_:ldc:finish:)``
    /// with it gives the bits of ``sgemm(transposeA:transposeB:m:n:k:_:lda:_:ldb:accumulate:_:ldc:tile:finish:)``.
    final class PackedB: @unchecked Sendable {
        let tile: Tile, k: Int, n: Int
        private let storage: Storage
        private var blockSize: Int { (n + tile.nr - 1) / tile.nr * tile.nr * tile.steps(kc) }

        init(transposeB: Bool, k: Int, n: Int, _ b: UnsafePointer<Float>, ldb: Int, tile: Tile) {
            (self.tile, self.k, self.n) = (tile, k, n)
            let blocks = (k + kc - 1) / kc, panels = (n + tile.nr - 1) / tile.nr
            storage = Storage(uninitializedCount: blocks * panels * tile.nr * tile.steps(kc))
            for block in 0..<blocks {
                let k0 = block * kc
                PortableGEMM.packPanels(transposeB, b, ldb, k0: k0, depth: Swift.min(kc, k - k0), n: n, 0..<panels, tile: tile,
                                        into: storage.pointer + block * blockSize)
            }
        }

        func panels(_ block: Int) -> UnsafePointer<Float> { UnsafePointer(storage.pointer + block * blockSize) }
    }

    /// C [m, n] = A [m, k] (row stride `lda`) · the packed B, then `finish` on each block, on this thread.
    static func sgemm(m: Int, _ a: UnsafePointer<Float>, lda: Int, _ packed: PackedB, _ c: UnsafeMutablePointer<Float>, ldc: Int,
                      finish: GEMM.Finish? = nil) {
        guard m > 0, packed.n > 0 else { return }
        if packed.k == 0 {
            for row in 0..<m { (c + row * ldc).initialize(repeating: 0, count: packed.n) }
            finish?(0..<m, 0..<packed.n)
            return
        }
        var p0 = 0
        while p0 < packed.k {
            let depth = Swift.min(kc, packed.k - p0)
            let block = Block(tile: packed.tile, transposeA: false, m: m, n: packed.n, k0: p0, depth: depth, a: a, lda: lda,
                              b: .packed(packed.panels(p0 / kc)), c: c, ldc: ldc, accumulate: p0 > 0,
                              finish: p0 + depth == packed.k ? finish : nil)
            block.run(0..<block.tasks)
            p0 += depth
        }
    }

    /// Panels `panels` of op(B)[k0..<k0+depth, 0..<n], nr columns each, k-major, at `out` + panel·nr·steps.
    private static func packPanels(_ transposeB: Bool, _ b: UnsafePointer<Float>, _ ldb: Int, k0: Int, depth: Int, n: Int,
                                   _ panels: Range<Int>, tile: Tile, into out: UnsafeMutablePointer<Float>) {
        let steps = tile.steps(depth)
        for panel in panels {
            let (j0, columns, target) = (panel * tile.nr, Swift.min(tile.nr, n - panel * tile.nr), out + panel * tile.nr * steps)
            if tile.kernel == .bf16 {
                BFloat16Panels.packB(transposeB, b, ldb, k0: k0, depth: depth, j0: j0, columns: columns, nr: tile.nr, into: target)
            } else {
                packB(transposeB, b, ldb, k0: k0, depth: depth, j0: j0, columns: columns, nr: tile.nr, into: target)
            }
        }
    }

    /// One block of k of a product: its tasks are blocks of MC rows × NB columns of C. Tasks run row
    /// block by row block, so a thread packs each A block once for its run of column blocks; after
    /// the last block of k, each task's block of C is final and is finished while in cache.
    private struct Block: @unchecked Sendable {
        enum Source {
            /// B's panels packed for this block of k (k-major, nr columns each).
            case packed(UnsafePointer<Float>)
            /// B read in place from row k0 (a single block of rows, the narrow tile).
            case inPlace(UnsafePointer<Float>, ldb: Int)
        }
        let tile: Tile, transposeA: Bool, m: Int, n: Int, k0: Int, depth: Int
        let a: UnsafePointer<Float>, lda: Int, b: Source, c: UnsafeMutablePointer<Float>, ldc: Int
        let accumulate: Bool, finish: GEMM.Finish?

        var colBlocks: Int { (n + nb - 1) / nb }
        var tasks: Int { (m + mc - 1) / mc * colBlocks }

        func run(_ range: Range<Int>) {
            let steps = tile.steps(depth)
            // Few columns (a channels-last pointwise convolution: pixels × output channels) would pay for packing
            // A's rows (a transpose of the whole input) with little reuse: the micro-kernel reads them in place.
            let rowsInPlace = !transposeA && tile.kernel != .bf16 && n < 512
            let direct: Bool
            if case .inPlace = b { direct = true } else { direct = false }
            // The A block, then one tile of scratch for partial tiles, then (reading B in place) one packed B panel.
            let packedA = Storage(uninitializedCount: mc * steps + Tile.largest + (direct ? tile.nr * depth : 0))
            let pa = packedA.pointer
            var packedRows = -1
            for task in range {
                let rowBlock = task / colBlocks, colBlock = task % colBlocks
                let i0 = rowBlock * mc, rows = Swift.min(mc, m - i0)
                if packedRows != rowBlock {
                    if rowsInPlace {
                        // Only a last partial panel is packed (zero-padded rows).
                        let whole = rows / tile.mr * tile.mr
                        if whole < rows {
                            packA(false, a, lda, i0: i0 + whole, rows: rows - whole, k0: k0, depth: depth, mr: tile.mr, into: pa)
                        }
                    } else if tile.kernel == .bf16 {
                        BFloat16Panels.packA(transposeA, a, lda, i0: i0, rows: rows, k0: k0, depth: depth, mr: tile.mr, into: pa)
                    } else {
                        packA(transposeA, a, lda, i0: i0, rows: rows, k0: k0, depth: depth, mr: tile.mr, into: pa)
                    }
                    packedRows = rowBlock
                }
                let j0 = colBlock * nb, columns = Swift.min(nb, n - j0)
                let source: PanelsB
                switch b {
                case let .packed(panels): source = .packed(panels + (j0 / tile.nr) * tile.nr * steps)
                case let .inPlace(rowK0, ldb): source = .inPlace(rowK0 + j0, ldb: ldb, spare: pa + mc * steps + Tile.largest)
                }
                let panelsA = rowsInPlace ? PanelsA.inPlace(a + i0 * lda + k0, lda: lda, tail: pa) : PanelsA.packed(pa)
                macroKernel(tile, rows: rows, columns: columns, depth: steps, panelsA, source,
                            c + i0 * ldc + j0, ldc: ldc, accumulate: accumulate, scratch: pa + mc * steps)
                finish?(i0..<i0 + rows, j0..<j0 + columns)
            }
            withExtendedLifetime(packedA) {}
        }
    }

    /// Where a task's A panels are: packed (k-major panels of mr rows), or read in place (row stride
    /// `lda`), a last partial panel packed at `tail`.
    enum PanelsA {
        case packed(UnsafePointer<Float>)
        case inPlace(UnsafePointer<Float>, lda: Int, tail: UnsafePointer<Float>)
    }

    /// Where a task's B panels are: packed (k-major panels of nr columns), or read in place (row
    /// stride `ldb`, nr columns of one row per step), a last partial panel packed into `spare`.
    enum PanelsB {
        case packed(UnsafePointer<Float>)
        case inPlace(UnsafePointer<Float>, ldb: Int, spare: UnsafeMutablePointer<Float>)
    }

    /// One task's rows × columns of C: every B panel (outer, so it stays in L1) against every A panel
    /// (`depth` packed steps).
    @inline(__always)
    private static func macroKernel(_ tile: Tile, rows: Int, columns: Int, depth: Int, _ a: PanelsA,
                                    _ b: PanelsB, _ c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
                                    scratch: UnsafeMutablePointer<Float>) {
        let (mr, nr) = (tile.mr, tile.nr)
        do {
            var j = 0
            while j < columns {
                let width = Swift.min(nr, columns - j)
                let panelB: UnsafePointer<Float>, stride: Int
                switch b {
                case let .packed(panels):
                    (panelB, stride) = (panels + (j / nr) * nr * depth, nr)
                case let .inPlace(source, ldb, spare):
                    if width == nr {
                        (panelB, stride) = (source + j, ldb)
                    } else {
                        packB(false, source + j, ldb, k0: 0, depth: depth, j0: 0, columns: width, nr: nr, into: spare)
                        (panelB, stride) = (UnsafePointer(spare), nr)
                    }
                }
                var i = 0
                while i < rows {
                    let height = Swift.min(mr, rows - i)
                    let panelA: UnsafePointer<Float>, lda: Int?
                    switch a {
                    case let .packed(panels): (panelA, lda) = (panels + (i / mr) * mr * depth, nil)
                    case let .inPlace(source, rowStride, tail): (panelA, lda) = height == mr ? (source + i * rowStride, rowStride) : (tail, nil)
                    }
                    let target = c + i * ldc + j
                    if width == nr, height == mr {
                        microKernel(tile, depth, panelA, lda: lda, panelB, stride, target, ldc, accumulate)
                    } else if tile.kernel == .wide, width <= 16 {
                        // A last panel of at most 16 columns: the 8 × 16 kernel, in place when it fills it.
                        let (rs, ss) = lda.map { ($0, 1) } ?? (1, mr)
                        if width == 16, height == mr {
                            WideGEMM.halfTile(depth, panelA, rowStride: rs, stepStride: ss, panelB, stride, target, ldc, accumulate)
                        } else {
                            if accumulate {
                                for r in 0..<height { for q in 0..<width { scratch[r * 16 + q] = target[r * ldc + q] } }
                            }
                            WideGEMM.halfTile(depth, panelA, rowStride: rs, stepStride: ss, panelB, stride, scratch, 16, accumulate)
                            for r in 0..<height { for q in 0..<width { target[r * ldc + q] = scratch[r * 16 + q] } }
                        }
                    } else {
                        // A partial tile runs in scratch; the padding lanes compute zeros and are dropped.
                        if accumulate {
                            for r in 0..<height { for q in 0..<width { scratch[r * nr + q] = target[r * ldc + q] } }
                        }
                        microKernel(tile, depth, panelA, lda: lda, panelB, stride, scratch, nr, accumulate)
                        for r in 0..<height { for q in 0..<width { target[r * ldc + q] = scratch[r * nr + q] } }
                    }
                    i += mr
                }
                j += nr
            }
        }
    }

    /// One tile; A is a packed panel, or (`lda` given) rows read in place.
    @inline(__always)
    private static func microKernel(_ tile: Tile, _ depth: Int, _ a: UnsafePointer<Float>, lda: Int?, _ b: UnsafePointer<Float>, _ ldb: Int,
                                    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ accumulate: Bool) {
        switch tile.kernel {
        case .narrow:
            if let lda {
                tile6x16(depth, a, rowStride: lda, stepStride: 1, b, ldb, c, ldc, accumulate)
            } else {
                tile6x16(depth, a, b, ldb, c, ldc, accumulate)
            }
        case .wide:
            if let lda { WideGEMM.tile(depth, rows: a, lda: lda, b, c, ldc, accumulate) } else { WideGEMM.tile(depth, a, b, c, ldc, accumulate) }
        case .bf16:
            UnsafeRawPointer(a).withMemoryRebound(to: UInt32.self, capacity: depth * tile.mr) { a in
                UnsafeRawPointer(b).withMemoryRebound(to: UInt32.self, capacity: depth * tile.nr) { b in
                    graft_bf16_tile(depth, a, b, c, ldc, accumulate ? 1 : 0)
                }
            }
        }
    }

    /// Rows i0..<i0+rows, steps k0..<k0+depth of op(A), as panels of `mr` rows: panel[p·mr + r]; rows past the end are zeros.
    static func packA(_ transposed: Bool, _ a: UnsafePointer<Float>, _ lda: Int, i0: Int, rows: Int, k0: Int, depth: Int,
                      mr: Int, into out: UnsafeMutablePointer<Float>) {
        var i = 0
        var panel = out
        while i < rows {
            let height = Swift.min(mr, rows - i)
            if transposed {
                // op(A)[r, p] = A[p, r]: each step's mr values are contiguous.
                for p in 0..<depth {
                    let source = a + (k0 + p) * lda + i0 + i, destination = panel + p * mr
                    for r in 0..<height { destination[r] = source[r] }
                    for r in height..<mr { destination[r] = 0 }
                }
            } else {
                // The panel's rows transposed in (eight by eight), then the rows past the end as zeros.
                graft_transpose_into(a + (i0 + i) * lda + k0, lda, height, depth, panel, mr)
                if height < mr {
                    for p in 0..<depth { (panel + p * mr + height).initialize(repeating: 0, count: mr - height) }
                }
            }
            panel += mr * depth
            i += mr
        }
    }

    /// Steps k0..<k0+depth, columns j0..<j0+columns of op(B), as one k-major panel of `nr` columns (zero-padded).
    static func packB(_ transposed: Bool, _ b: UnsafePointer<Float>, _ ldb: Int, k0: Int, depth: Int, j0: Int, columns: Int,
                      nr: Int, into panel: UnsafeMutablePointer<Float>) {
        if transposed {
            // op(B)[p, q] = B[q, p]: the columns' runs of k transposed in (eight by eight).
            graft_transpose_into(b + j0 * ldb + k0, ldb, columns, depth, panel, nr)
            if columns < nr { for p in 0..<depth { for q in columns..<nr { panel[p * nr + q] = 0 } } }
        } else if columns == nr {
            for p in 0..<depth {
                (panel + p * nr).update(from: b + (k0 + p) * ldb + j0, count: nr)
            }
        } else {
            for p in 0..<depth {
                let source = b + (k0 + p) * ldb + j0, destination = panel + p * nr
                for q in 0..<columns { destination[q] = source[q] }
                for q in columns..<nr { destination[q] = 0 }
            }
        }
    }

    /// The 8-lane micro-kernel: a 6 × 16 tile of C in twelve AVX2 registers; step p's sixteen B
    /// values at b[p·ldb ..< p·ldb + 16] (ldb 16 for a packed panel).
    /// A's element (r, p) is at a[r·rowStride + p·stepStride]: (1, 6) for a packed panel, (lda, 1) for rows read in place.
    @inline(__always)
    static func tile6x16(_ depth: Int, _ a: UnsafePointer<Float>, rowStride rs: Int = 1, stepStride: Int = 6, _ b: UnsafePointer<Float>, _ ldb: Int,
                         _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ accumulate: Bool) {
        var c00 = SIMD8<Float>(), c01 = SIMD8<Float>(), c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
        var c20 = SIMD8<Float>(), c21 = SIMD8<Float>(), c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
        var c40 = SIMD8<Float>(), c41 = SIMD8<Float>(), c50 = SIMD8<Float>(), c51 = SIMD8<Float>()
        if accumulate {
            c00 = Lanes.load(c, 0); c01 = Lanes.load(c, 8)
            c10 = Lanes.load(c, ldc); c11 = Lanes.load(c, ldc &+ 8)
            c20 = Lanes.load(c, 2 &* ldc); c21 = Lanes.load(c, 2 &* ldc &+ 8)
            c30 = Lanes.load(c, 3 &* ldc); c31 = Lanes.load(c, 3 &* ldc &+ 8)
            c40 = Lanes.load(c, 4 &* ldc); c41 = Lanes.load(c, 4 &* ldc &+ 8)
            c50 = Lanes.load(c, 5 &* ldc); c51 = Lanes.load(c, 5 &* ldc &+ 8)
        }
        var pa = a, pb = b
        for _ in 0..<depth {
            let b0 = Lanes.load(pb, 0), b1 = Lanes.load(pb, 8)
            var x = SIMD8<Float>(repeating: pa[0])
            c00 = c00.addingProduct(x, b0); c01 = c01.addingProduct(x, b1)
            x = SIMD8<Float>(repeating: pa[1 &* rs])
            c10 = c10.addingProduct(x, b0); c11 = c11.addingProduct(x, b1)
            x = SIMD8<Float>(repeating: pa[2 &* rs])
            c20 = c20.addingProduct(x, b0); c21 = c21.addingProduct(x, b1)
            x = SIMD8<Float>(repeating: pa[3 &* rs])
            c30 = c30.addingProduct(x, b0); c31 = c31.addingProduct(x, b1)
            x = SIMD8<Float>(repeating: pa[4 &* rs])
            c40 = c40.addingProduct(x, b0); c41 = c41.addingProduct(x, b1)
            x = SIMD8<Float>(repeating: pa[5 &* rs])
            c50 = c50.addingProduct(x, b0); c51 = c51.addingProduct(x, b1)
            pa += stepStride
            pb += ldb
        }
        Lanes.store(c00, c, 0); Lanes.store(c01, c, 8)
        Lanes.store(c10, c, ldc); Lanes.store(c11, c, ldc &+ 8)
        Lanes.store(c20, c, 2 &* ldc); Lanes.store(c21, c, 2 &* ldc &+ 8)
        Lanes.store(c30, c, 3 &* ldc); Lanes.store(c31, c, 3 &* ldc &+ 8)
        Lanes.store(c40, c, 4 &* ldc); Lanes.store(c41, c, 4 &* ldc &+ 8)
        Lanes.store(c50, c, 5 &* ldc); Lanes.store(c51, c, 5 &* ldc &+ 8)
    }
}
