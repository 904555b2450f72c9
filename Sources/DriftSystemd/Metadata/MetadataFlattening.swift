import Logging

/// Flattens nested swift-log metadata into `(path, value)` leaves, shared by the journal and stderr handlers.
///
/// Rules: dictionaries recurse (keys sorted, so output is deterministic); an array of plain values
/// becomes one comma-joined value (`cpu,image,labels`); an array holding dictionaries or arrays
/// recurses with the element index as the path component; an empty dictionary produces nothing.
enum MetadataFlattening {
    /// One leaf of flattened metadata: the key path from the top-level key down, and the text value.
    struct Leaf: Sendable, Hashable {
        var path: [String]
        var value: String

        init(path: [String], value: String) {
            self.path = path
            self.value = value
        }
    }

    /// All leaves of `metadata`, sorted by top-level key (then by nested keys).
    static func leaves(_ metadata: Logger.Metadata) -> [Leaf] {
        var out: [Leaf] = []
        for key in metadata.keys.sorted() {
            append(metadata[key]!, path: [key], to: &out)
        }
        return out
    }

    private static func append(_ value: Logger.MetadataValue, path: [String], to out: inout [Leaf]) {
        switch value {
        case .string(let string):
            out.append(Leaf(path: path, value: string))
        case .stringConvertible(let convertible):
            out.append(Leaf(path: path, value: convertible.description))
        case .dictionary(let dictionary):
            for key in dictionary.keys.sorted() {
                append(dictionary[key]!, path: path + [key], to: &out)
            }
        case .array(let elements):
            if let scalars = scalarTexts(elements) {
                out.append(Leaf(path: path, value: scalars.joined(separator: ",")))
            } else {
                for (index, element) in elements.enumerated() {
                    append(element, path: path + [String(index)], to: &out)
                }
            }
        }
    }

    /// The texts of `elements` when all of them are plain strings, else nil.
    private static func scalarTexts(_ elements: [Logger.MetadataValue]) -> [String]? {
        var texts: [String] = []
        texts.reserveCapacity(elements.count)
        for element in elements {
            switch element {
            case .string(let string): texts.append(string)
            case .stringConvertible(let convertible): texts.append(convertible.description)
            case .dictionary, .array: return nil
            }
        }
        return texts
    }

    /// Merges the three metadata layers swift-log hands a handler; later layers win
    /// (handler metadata, then the metadata provider's, then the log call's).
    static func merge(
        handler: Logger.Metadata,
        provider: Logger.MetadataProvider?,
        event: Logger.Metadata?
    ) -> Logger.Metadata {
        var merged = handler
        if let provided = provider?.get(), !provided.isEmpty {
            merged.merge(provided) { _, new in new }
        }
        if let event, !event.isEmpty {
            merged.merge(event) { _, new in new }
        }
        return merged
    }
}
