/// Convolutions whose output planes are small (a CNN's late stages: 14×14 down to 2×2) make poor
/// GEMMs one image at a time — a few dozen columns each, the whole weight read again per image —
/// and per-image weight-gradient slots as large as the weights times the batch. Here the images
/// of a chunk share one GEMM: their columns sit side by side in one matrix [patch, images·plane],
/// outputs are scattered back to NCHW, and the weight gradient accumulates chunk after chunk into
/// one buffer. Chunks depend on the shapes only, so the thread count never changes a bit.
extension ConvPlan {
    /// Floats of columns one chunk may hold (16 MiB).
    static let columnBudget = 1 << 22

    /// Whether images run together: small output planes, or per-image gradient slots that would
    /// outgrow 32 MiB. Depthwise convolutions have a direct kernel instead.
    var batchesImages: Bool {
        !isDepthwise && batch > 1 && (plane < 256 || batch * groups * weightPerGroup > 1 << 23)
    }

    /// Images per GEMM: as many as the column budget holds.
    var imagesPerChunk: Int { Swift.max(1, Swift.min(batch, Self.columnBudget / Swift.max(patch * plane, 1))) }

    /// Calls `body(first, count)` for consecutive chunks of `chunk` images (default: `imagesPerChunk`), in order.
    private func forEachChunk(_ chunk: Int? = nil, _ body: (_ first: Int, _ count: Int) -> Void) {
        let chunk = chunk ?? imagesPerChunk
        var first = 0
        while first < batch {
            let count = Swift.min(chunk, batch - first)
            body(first, count)
            first += count
        }
    }

    /// Unfolds group `group` of images `first..<first + count` side by side into `col` [patch, count·plane].
    private func unfold(_ x: UnsafePointer<Float>, first: Int, count: Int, group: Int, into col: UnsafeMutablePointer<Float>) {
        nonisolated(unsafe) let (x, col) = (x, col)
        let (width, plane, geometry) = (count * plane, plane, geometry)
        let (groups, inputPerGroup) = (groups, inputPerGroup)
        Threads.parallelFor(count, grain: 1) { images in
            for i in images {
                Im2col.unfold(x + ((first + i) * groups + group) * inputPerGroup, col + i * plane, geometry, rowStride: width)
            }
        }
    }

    /// Copies between an NCHW tensor's rows (image, group, channel) and the chunk's matrix
    /// [outPerGroup, count·plane]: `toMatrix` gathers, otherwise it scatters adding `bias` (then the epilogue).
    private func transfer(_ tensor: UnsafeMutablePointer<Float>, _ matrix: UnsafeMutablePointer<Float>, first: Int, count: Int,
                          group: Int, toMatrix: Bool, bias: UnsafePointer<Float>? = nil, epilogue: ConvEpilogue? = nil) {
        nonisolated(unsafe) let (tensor, matrix, bias) = (tensor, matrix, bias)
        let (width, plane, outPerGroup, groups) = (count * plane, plane, outPerGroup, groups)
        Threads.parallelFor(count * outPerGroup, grain: Swift.max(1, Elementwise.grain / Swift.max(plane, 1))) { rows in
            for r in rows {
                let (i, o) = (r / outPerGroup, r % outPerGroup)
                let row = tensor + (((first + i) * groups + group) * outPerGroup + o) * plane
                let block = matrix + o * width + i * plane
                if toMatrix {
                    block.update(from: row, count: plane)
                } else {
                    let b = bias?[group * outPerGroup + o] ?? 0
                    for p in 0..<plane { row[p] = block[p] + b }
                    epilogue?.apply(row, count: plane, channel: group * outPerGroup + o)
                }
            }
        }
    }

    /// A Winograd convolution of the whole batch (`plan`: the forward's or the data gradient's), a chunk of
    /// images per call, their tiles side by side in each GEMM: the same bits as one image at a time.
    /// `u` is the transformed kernel; images of `x` are `xImage` floats apart, of `y` `yImage`.
    private func winogradBatched(_ plan: Winograd.Plan, x: UnsafePointer<Float>, xImage: Int, u: UnsafePointer<Float>,
                                 bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, yImage: Int) {
        let chunk = Swift.max(1, Swift.min(batch, Self.columnBudget / Swift.max(plan.scratchCount(), 1)))
        let scratch = Storage(uninitializedCount: plan.scratchCount(images: chunk))
        forEachChunk(chunk) { first, count in
            Winograd.convolve(plan, images: count, x: x + first * xImage, u: u, bias: bias, y: y + first * yImage, scratch: scratch.pointer)
        }
        withExtendedLifetime(scratch) {}
    }

    /// y = W·col (+ bias, then the epilogue), a chunk of images per GEMM; a 3×3 stride-1 convolution by
    /// Winograd's F(2×2, 3×3), a chunk of images per call.
    func forwardBatched(x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
                        epilogue: ConvEpilogue?) {
        if let winograd = winogradForward {
            let u = Winograd.transformWeights(weight, outChannels: outPerGroup, inChannels: geometry.channels, transposedAndFlipped: false)
            winogradBatched(winograd, x: x, xImage: inputPerGroup, u: u.pointer, bias: bias, y: y, yImage: outPerGroup * plane)
            if let epilogue {
                nonisolated(unsafe) let y = y
                let (outPerGroup, plane) = (outPerGroup, plane)
                Threads.parallelFor(batch * outPerGroup, grain: Swift.max(1, Elementwise.grain / Swift.max(plane, 1))) { planes in
                    for p in planes { epilogue.apply(y + p * plane, count: plane, channel: p % outPerGroup) }
                }
            }
            withExtendedLifetime(u) {}
            return
        }
        let chunk = imagesPerChunk
        let col = Storage(uninitializedCount: patch * chunk * plane)
        let out = Storage(uninitializedCount: outPerGroup * chunk * plane)
        forEachChunk { first, count in
            let width = count * plane
            for group in 0..<groups {
                unfold(x, first: first, count: count, group: group, into: col.pointer)
                GEMM.sgemm(m: outPerGroup, n: width, k: patch, weight + group * weightPerGroup, lda: patch,
                           col.pointer, ldb: width, out.pointer, ldc: width)
                transfer(y, out.pointer, first: first, count: count, group: group, toMatrix: false, bias: bias, epilogue: epilogue)
            }
        }
        withExtendedLifetime((col, out)) {}
    }

    /// dW = Σ chunks dY·colᵀ (accumulated in chunk order) and dX += fold(Wᵀ·dY), a chunk of images per GEMM;
    /// for a 3×3 stride-1 convolution, dX by Winograd (dY convolved with the kernel transposed and rotated),
    /// a chunk of images per call.
    func backwardBatched(x: UnsafePointer<Float>, weight: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                         dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?) {
        var dx = dx
        if let target = dx, let winograd = winogradData {
            let u = Winograd.transformWeights(weight, outChannels: geometry.channels, inChannels: outPerGroup, transposedAndFlipped: true)
            winogradBatched(winograd, x: dy, xImage: outPerGroup * plane, u: u.pointer, bias: nil, y: target, yImage: inputPerGroup)
            withExtendedLifetime(u) {}
            dx = nil
            guard dw != nil else { return }
        }
        let chunk = imagesPerChunk
        let col = Storage(uninitializedCount: patch * chunk * plane)
        let gradient = Storage(uninitializedCount: outPerGroup * chunk * plane)
        let (plane, geometry, groups, inputPerGroup) = (plane, geometry, groups, inputPerGroup)
        forEachChunk { first, count in
            let width = count * plane
            for group in 0..<groups {
                let kernel = weight + group * weightPerGroup
                transfer(UnsafeMutablePointer(mutating: dy), gradient.pointer, first: first, count: count, group: group, toMatrix: true)
                if let dw {
                    unfold(x, first: first, count: count, group: group, into: col.pointer)
                    // dW_g (+)= dY [out, width] · colᵀ [width, patch]
                    GEMM.sgemm(transposeB: true, m: outPerGroup, n: patch, k: width, gradient.pointer, lda: width,
                               col.pointer, ldb: width, beta: first == 0 ? 0 : 1, dw + group * weightPerGroup, ldc: patch)
                }
                if let dx {
                    // dcol = W_gᵀ [patch, out] · dY [out, width], folded back onto each image
                    GEMM.sgemm(transposeA: true, m: patch, n: width, k: outPerGroup, kernel, lda: patch,
                               gradient.pointer, ldb: width, col.pointer, ldc: width)
                    nonisolated(unsafe) let (dx, columns) = (dx, UnsafePointer(col.pointer))
                    Threads.parallelFor(count, grain: 1) { images in
                        for i in images {
                            Im2col.fold(columns + i * plane, dx + ((first + i) * groups + group) * inputPerGroup, geometry, rowStride: width)
                        }
                    }
                }
            }
        }
        withExtendedLifetime((col, gradient)) {}
    }
}
