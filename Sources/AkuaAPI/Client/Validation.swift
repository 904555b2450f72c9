/// Input checks done before any request is sent.
enum Validation {
    /// Nil when `value` is a valid `name` header value of 1...maxLength printable ASCII characters, else why not.
    static func headerValue(_ value: String, name: String, maxLength: Int) -> String? {
        let count = value.unicodeScalars.count
        guard count >= 1, count <= maxLength else { return "\(name) must be 1-\(maxLength) characters, got \(count)" }
        guard value.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F }) else {
            return "\(name) must be printable ASCII"
        }
        guard value.first != " ", value.last != " " else { return "\(name) must not start or end with a space" }
        return nil
    }

    /// Nil when `id` has 1...maxLength characters (Unicode scalars, as JSON Schema counts), else why not.
    static func identifier(_ id: String, name: String, maxLength: Int) -> String? {
        let count = id.unicodeScalars.count
        guard count >= 1, count <= maxLength else { return "\(name) must be 1-\(maxLength) characters, got \(count)" }
        return nil
    }
}
