/// A benchmark step that could not run or produced nonsense; the message says which and why.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ text: String) { description = text }
}
