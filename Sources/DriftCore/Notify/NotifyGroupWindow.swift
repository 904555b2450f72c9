/// Aligned group windows (`group_wait`): an event belongs to the window its timestamp falls in, sent at
/// the window's end; an event whose window has already ended joins the window of `now`.
public enum NotifyGroupWindow {
    /// The start (unix ms) of the window `eventAtMs` joins when it is decided at `nowMs`.
    public static func bucketStart(eventAtMs: Int64, groupWaitMs: Int64, nowMs: Int64) -> Int64 {
        precondition(groupWaitMs > 0, "group windows need group_wait > 0")
        let own = floorDiv(eventAtMs, groupWaitMs) * groupWaitMs
        if own + groupWaitMs > nowMs { return own }
        return floorDiv(nowMs, groupWaitMs) * groupWaitMs
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}
