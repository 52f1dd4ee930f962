import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Keeping a model file's bytes out of memory once they are decoded. Readers decode a mapped file
/// tensor by tensor; after each, the pages it came from are handed back to the kernel, so a load
/// holds the decoded tensors and little of the file at once.
enum MappedPages {
    /// Linux's MADV_PAGEOUT: reclaim the pages now. It never loses data: clean file pages are read
    /// again from the file if touched, and anonymous memory is swapped out or kept, so it is safe on
    /// bytes that are not a file mapping too.
    static let pageOut: Int32 = 21
    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Releases the whole pages inside `range` (byte offsets from `data.startIndex`).
    static func release(_ data: Data, _ range: Range<Int>) {
        guard pageSize > 0, range.count >= pageSize else { return }
        data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress, range.lowerBound >= 0, range.upperBound <= raw.count else { return }
            let start = Int(bitPattern: base) + range.lowerBound, end = Int(bitPattern: base) + range.upperBound
            let first = (start + pageSize - 1) / pageSize * pageSize, last = end / pageSize * pageSize
            guard last > first, let pointer = UnsafeMutableRawPointer(bitPattern: first) else { return }
            _ = madvise(pointer, last - first, pageOut)
        }
    }
}

/// Whether this machine stores numbers little-endian, as the model formats do (then float32 data
/// is copied as it is, not decoded number by number).
let littleEndianHost: Bool = 1.littleEndian == 1
