import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Hands memory freed by a config load (a parse of 100,000 machines allocates over 100 MB of short-lived
/// objects) back to the kernel. glibc keeps freed heap pages otherwise, so the resident size would stay at
/// the parse's peak. Runs in the background, after READY=1.
enum MemoryTrim {
    #if canImport(Glibc)
    private typealias Trim = @convention(c) (Int) -> Int32
    /// glibc's `malloc_trim` (declared in <malloc.h>, which the Glibc module does not export).
    private static let trim: Trim? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: Trim.self)
    }()
    #endif

    static func soon() {
        #if canImport(Glibc)
        guard let trim else { return }
        DispatchQueue.global(qos: .utility).async { _ = trim(0) }
        #endif
    }
}
