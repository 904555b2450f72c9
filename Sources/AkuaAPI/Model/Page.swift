/// One page of a paginated list (`{"data": [...], "has_more": bool, "next_cursor": string|null}`).
public struct Page<Item: Sendable>: Sendable {
    /// The items of this page, in the API's order.
    public var data: [Item]
    /// True when more items exist after this page.
    public var hasMore: Bool
    /// The cursor for the next page; non-nil whenever `hasMore` is true.
    public var nextCursor: String?

    public init(data: [Item], hasMore: Bool, nextCursor: String?) {
        self.data = data
        self.hasMore = hasMore
        self.nextCursor = nextCursor
    }
}

extension Page: Equatable where Item: Equatable {}
extension Page: Hashable where Item: Hashable {}

extension Page: Codable where Item: Codable {
    enum CodingKeys: String, CodingKey {
        case data
        case hasMore = "has_more"
        case nextCursor = "next_cursor"
    }

    /// `data` and `has_more` are required; `next_cursor` may be null or absent, but not when `has_more` is true.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        data = try c.decode([Item].self, forKey: .data)
        hasMore = try c.decode(Bool.self, forKey: .hasMore)
        nextCursor = try c.decodeIfPresent(String.self, forKey: .nextCursor)
        if hasMore, nextCursor?.isEmpty ?? true {
            throw DecodingError.dataCorruptedError(
                forKey: .nextCursor, in: c, debugDescription: "has_more is true but next_cursor is missing")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(data, forKey: .data)
        try c.encode(hasMore, forKey: .hasMore)
        try c.encode(nextCursor, forKey: .nextCursor)
    }
}
