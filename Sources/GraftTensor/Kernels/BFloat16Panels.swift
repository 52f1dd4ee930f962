import CGraftKernels

/// The packed panels of the bfloat16 GEMM (`set precision=bf16`, see ``Precision``): the same
/// blocks as ``PortableGEMM``'s float32 panels, each 32-bit element holding two bfloat16 values of
/// consecutive k (the even step in the low half), as AVX-512 BF16's `vdpbf16ps` reads them. An odd
/// last step pairs with zero. The rounding runs in CGraftKernels (AVX-512, sixteen values at a time);
/// ``round(_:)`` is its definition.
enum BFloat16Panels {
    /// float32 → bfloat16 bits, rounded to nearest with ties to even (a NaN stays a quiet NaN).
    @inline(__always)
    static func round(_ x: Float) -> UInt32 {
        let bits = x.bitPattern
        if x.isNaN { return (bits >> 16) | 0x40 }
        return (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16
    }

    /// bfloat16 bits → the float32 they stand for.
    @inline(__always)
    static func widen(_ half: UInt32) -> Float { Float(bitPattern: half << 16) }

    /// Rows i0..<i0+rows, steps k0..<k0+depth of op(A), as panels of `mr` rows by pairs of steps:
    /// panel[p·mr + r] = (A[r, 2p], A[r, 2p+1]); rows past the end are zeros.
    static func packA(_ transposed: Bool, _ a: UnsafePointer<Float>, _ lda: Int, i0: Int, rows: Int, k0: Int, depth: Int,
                      mr: Int, into out: UnsafeMutablePointer<Float>) {
        let pairs = (depth + 1) / 2
        var panel = words(out), i = 0
        while i < rows {
            let height = Swift.min(mr, rows - i)
            if transposed {
                // op(A)[r, p] = A[p, r]: each step's rows are one run.
                for p in 0..<pairs {
                    let even = a + (k0 + 2 * p) * lda + i0 + i
                    graft_bf16_pairs(even, 2 * p + 1 < depth ? even + lda : nil, height, panel + p * mr)
                    (panel + p * mr + height).initialize(repeating: 0, count: mr - height)
                }
            } else {
                graft_bf16_pairs_across(a + (i0 + i) * lda + k0, lda, height, depth, panel, mr)
                for r in height..<mr { for p in 0..<pairs { panel[p * mr + r] = 0 } }
            }
            panel += mr * pairs
            i += mr
        }
    }

    /// Steps k0..<k0+depth, columns j0..<j0+columns of op(B), as one panel of `nr` columns by pairs
    /// of steps: panel[p·nr + q] = (B[2p, q], B[2p+1, q]); columns past the end are zeros.
    static func packB(_ transposed: Bool, _ b: UnsafePointer<Float>, _ ldb: Int, k0: Int, depth: Int, j0: Int, columns: Int,
                      nr: Int, into out: UnsafeMutablePointer<Float>) {
        let pairs = (depth + 1) / 2
        let panel = words(out)
        if transposed {
            // op(B)[p, q] = B[q, p]: each column's steps are one run.
            graft_bf16_pairs_across(b + j0 * ldb + k0, ldb, columns, depth, panel, nr)
            for q in columns..<nr { for p in 0..<pairs { panel[p * nr + q] = 0 } }
        } else {
            for p in 0..<pairs {
                let even = b + (k0 + 2 * p) * ldb + j0
                graft_bf16_pairs(even, 2 * p + 1 < depth ? even + ldb : nil, columns, panel + p * nr)
                (panel + p * nr + columns).initialize(repeating: 0, count: nr - columns)
            }
        }
    }

    /// The panels' memory (float32 storage) as the 32-bit words it holds here.
    @inline(__always)
    private static func words(_ pointer: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<UInt32> {
        UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: UInt32.self)
    }
}
