import Foundation

/// An inverted-residual block (MobileNetV2 and V3, EfficientNet) or a depthwise-separable one on
/// channels-last maps, fused: [pointwise expansion →] depthwise → [pointwise projection], each with
/// its bias and epilogue, computed band of output rows by band, so the expanded map and the
/// depthwise output only ever exist as a few rows in a buffer that stays in L2, instead of being
/// written to memory whole and read back.
///
/// Every output is computed with exactly the arithmetic of the layers run one by one
/// (``ChannelsLast/pointwise(_:_:_:_:pixels:inChannels:outChannels:epilogue:)`` and
/// ``ChannelsLast/depthwise(_:_:_:_:batch:_:epilogue:)``): a pointwise output is the GEMM's chain
/// over its input channels (the same tile, the same blocks of k, B packed the same way), then its
/// finish; a depthwise output is the chain over its taps. Bands and the split over threads only
/// decide which outputs are computed together, so the bits are those of the unfused layers for any
/// band size and thread count (tested).
enum SeparableBlock {
    /// A pointwise convolution of the block: w [out, in] (PyTorch's layout), its bias and epilogue.
    struct Pointwise {
        let weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?
        let inChannels: Int, outChannels: Int
        let epilogue: ConvEpilogue?
    }

    /// The buffer a band's rows may take (the expanded rows and the depthwise rows together): three
    /// eighths of a core's L2 (384 KB on Zen 4, 192 KB on Zen 3), so that the band's input and output
    /// rows and the packed weights stay there beside it.
    static let bandBytes = CPUFeatures.level2CacheBytes * 3 / 8
    /// The fewest output pixels a band takes (even past the budget), so that the GEMMs' row blocks stay
    /// full and each packed weight panel is used often enough.
    static let minimumPixels = 192

    /// x [N, H, W, Cin] → y [N, OH, OW, Cout]: `expand` (Cin → C; without it, Cin = C), the depthwise
    /// convolution `g` (g.channels = C, g.height × g.width = H × W) with weights w [C, kh, kw], its bias
    /// and epilogue, then `project` (C → Cout; without it, Cout = C). `bandRows` sets the rows of a band
    /// (tests make it small to cross many band edges); by default ``bandBytes`` and ``minimumPixels`` choose.
    static func run(_ x: UnsafePointer<Float>, batch: Int, expand: Pointwise?, depthwise w: UnsafePointer<Float>,
                    bias: UnsafePointer<Float>?, _ g: WindowGeometry, epilogue: ConvEpilogue?, project: Pointwise?,
                    _ y: UnsafeMutablePointer<Float>, bandRows: Int? = nil) {
        let mid = g.channels, (height, width) = (g.height, g.width), (outHeight, outWidth) = (g.outputHeight, g.outputWidth)
        guard batch > 0, mid > 0, g.outputPlane > 0 else { return }
        let inChannels = expand?.inChannels ?? mid, outChannels = project?.outChannels ?? mid
        let tile = GEMM.portableTile
        // The pointwise weights packed once for every band, as the unfused GEMM packs them.
        let expandB = expand.map { PortableGEMM.PackedB(transposeB: true, k: $0.inChannels, n: mid, $0.weight, ldb: Swift.max($0.inChannels, 1), tile: tile) }
        let projectB = project.map { PortableGEMM.PackedB(transposeB: true, k: mid, n: $0.outChannels, $0.weight, ldb: mid, tile: tile) }
        let expandFinish = expand.flatMap { GEMM.LinearFinish($0.bias, $0.epilogue, outFeatures: mid) }
        let projectFinish = project.flatMap { GEMM.LinearFinish($0.bias, $0.epilogue, outFeatures: $0.outChannels) }
        let plan = ChannelsLast.DepthwisePlan(w, bias, g, epilogue: epilogue)

        // A band of b output rows reads (b − 1)·stride + span rows of the expanded map.
        let s = g.strideHeight, span = (g.kernelHeight - 1) * g.dilationHeight + 1
        let expandedRow = width * mid, depthwiseRow = outWidth * mid
        func floats(_ rows: Int) -> (expanded: Int, depthwise: Int) {
            (expand == nil ? 0 : ((rows - 1) * s + span) * expandedRow, project == nil ? 0 : rows * depthwiseRow)
        }
        // As many rows as the budget takes, but enough output pixels for the GEMMs' row blocks.
        var band = 1
        while band < outHeight, floats(band + 1).expanded + floats(band + 1).depthwise <= bandBytes / MemoryLayout<Float>.stride
                || band * outWidth < minimumPixels { band += 1 }
        if let bandRows { band = Swift.min(Swift.max(1, bandRows), outHeight) }
        let (expandedFloats, depthwiseFloats) = floats(band)
        // Each image is one task when there are images enough for the threads; otherwise its rows are split
        // (a band that starts a segment computes its expanded rows again: the same values).
        let segments = Swift.min(outHeight, Swift.max(1, (Threads.count + batch - 1) / batch))
        nonisolated(unsafe) let (x, y) = (x, y)
        Threads.parallelFor(batch * segments, grain: 1) { tasks in
            let buffer = Storage(uninitializedCount: Swift.max(1, expandedFloats + depthwiseFloats))
            let expanded = buffer.pointer, depthwise = buffer.pointer + expandedFloats
            for task in tasks {
                let (n, segment) = (task / segments, task % segments)
                let image = x + n * height * width * inChannels, output = y + n * outHeight * outWidth * outChannels
                // The image rows held in `expanded`, the first at its start.
                var (low, high) = (0, 0)
                var o0 = outHeight * segment / segments
                let end = outHeight * (segment + 1) / segments
                while o0 < end {
                    let o1 = Swift.min(end, o0 + band)
                    // The image rows this band's windows read.
                    let r0 = Swift.min(height, Swift.max(0, o0 * s - g.padTop))
                    let r1 = Swift.max(r0, Swift.min(height, (o1 - 1) * s - g.padTop + span))
                    let target = project == nil ? output + o0 * depthwiseRow : depthwise
                    if let expandB {
                        // Rows already expanded for the last band move to the front; the rest are expanded now.
                        let kept = Swift.max(r0, low)
                        if kept < high {
                            if kept > low { memmove(expanded, expanded + (kept - low) * expandedRow, (high - kept) * expandedRow * MemoryLayout<Float>.stride) }
                        } else {
                            high = r0
                        }
                        let rows = expanded + (high - r0) * expandedRow
                        PortableGEMM.sgemm(m: (r1 - high) * width, image + high * width * inChannels, lda: Swift.max(inChannels, 1), expandB,
                                           rows, ldc: mid, finish: expandFinish?.finish(rows))
                        (low, high) = (r0, r1)
                        plan.rows(o0..<o1, image: expanded, height: r1 - r0, padTop: g.padTop + r0, into: target)
                    } else {
                        plan.rows(o0..<o1, image: image, height: height, padTop: g.padTop, into: target)
                    }
                    if let projectB {
                        let rows = output + o0 * outWidth * outChannels
                        PortableGEMM.sgemm(m: (o1 - o0) * outWidth, depthwise, lda: mid, projectB, rows, ldc: outChannels,
                                           finish: projectFinish?.finish(rows))
                    }
                    o0 = o1
                }
            }
            withExtendedLifetime(buffer) {}
        }
        withExtendedLifetime((expandB, projectB, expandFinish, projectFinish, plan)) {}
    }
}
