import Foundation

/// A file's bytes by offset from 0, read in place from its `Data` (a mapping of the file): the
/// readers parse headers through it and never copy the whole file.
struct ByteView: RandomAccessCollection {
    let data: Data
    var startIndex: Int { 0 }
    var endIndex: Int { data.count }
    subscript(offset: Int) -> UInt8 { data[data.startIndex + offset] }

    /// The bytes of `range` as `Data` (a slice of the file, not a copy).
    func data(_ range: Range<Int>) -> Data { data[(data.startIndex + range.lowerBound)..<(data.startIndex + range.upperBound)] }

    /// The bytes of `range` copied into an array, in one move.
    func array(_ range: Range<Int>) -> [UInt8] { [UInt8](data(range)) }
}
