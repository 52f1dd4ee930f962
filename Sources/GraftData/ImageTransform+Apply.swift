import GraftTensor

extension ImageTransform {
    /// `image` made into an input of ``sampleShape`` (values in [0, 1]).
    public func apply(_ image: Image) throws(DataError) -> Image {
        let converted = try image.converted(toChannels: channels)
        var out: Image
        if let resize, height == width {
            out = try converted.resizedAndCenterCropped(resize: Swift.max(resize, height), crop: height)
        } else {
            out = try converted.resized(height: height, width: width)
        }
        if eightBit { out = try Image(channels: out.channels, height: out.height, width: out.width, pixels: out.pixels.map { Self.eightBit($0) }) }
        return out
    }
}
