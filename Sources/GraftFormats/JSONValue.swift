import Foundation

/// A JSON document as plain values, decoded with `JSONDecoder`: a fraction of the memory of
/// `JSONSerialization`'s objects (a 6.6 MB safetensors header of 100,000 entries took 390 MB as
/// Foundation objects, 72 MB this way), and its parser bounds the nesting depth.
enum JSONValue: Decodable, CustomStringConvertible {
    case null, bool(Bool), int(Int), double(Double), string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    private struct Key: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        if let container = try? decoder.container(keyedBy: Key.self) {
            var object: [String: JSONValue] = [:]
            for key in container.allKeys { object[key.stringValue] = try container.decode(JSONValue.self, forKey: key) }
            self = .object(object)
        } else if var container = try? decoder.unkeyedContainer() {
            var items: [JSONValue] = []
            while !container.isAtEnd { items.append(try container.decode(JSONValue.self)) }
            self = .array(items)
        } else {
            let value = try decoder.singleValueContainer()
            if value.decodeNil() { self = .null }
            else if let bool = try? value.decode(Bool.self) { self = .bool(bool) }
            else if let int = try? value.decode(Int.self) { self = .int(int) }
            else if let double = try? value.decode(Double.self) { self = .double(double) }
            else { self = .string(try value.decode(String.self)) }
        }
    }

    /// Parses `data`, or nil when it is not JSON.
    static func parse(_ data: Data) -> JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: data) }

    var string: String? { if case let .string(v) = self { return v } else { return nil } }
    var int: Int? { if case let .int(v) = self { return v } else { return nil } }
    var array: [JSONValue]? { if case let .array(v) = self { return v } else { return nil } }
    var object: [String: JSONValue]? { if case let .object(v) = self { return v } else { return nil } }

    var description: String {
        switch self {
        case .null: return "null"
        case let .bool(v): return String(v)
        case let .int(v): return String(v)
        case let .double(v): return String(v)
        case let .string(v): return "\"\(v)\""
        case let .array(items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        case let .object(object): return "{" + object.keys.sorted().map { "\"\($0)\": \(object[$0]!)" }.joined(separator: ", ") + "}"
        }
    }
}
