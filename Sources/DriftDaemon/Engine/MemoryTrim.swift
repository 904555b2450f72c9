import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Keeps the daemon's resident size near what it uses. glibc keeps freed heap pages unless asked to give
/// them back, and by default it lets large freed blocks raise its mmap threshold, so that every later
/// config parse (over 100 MB of short-lived objects at 100,000 machines) fragments the heap a little more.
public enum MemoryTrim {
    #if canImport(Glibc)
    private typealias Trim = @convention(c) (Int) -> Int32
    private typealias Option = @convention(c) (Int32, Int32) -> Int32
    /// glibc's `malloc_trim` and `mallopt` (declared in <malloc.h>, which the Glibc module does not export).
    private static let trim: Trim? = symbol("malloc_trim").map { unsafeBitCast($0, to: Trim.self) }
    private static let option: Option? = symbol("mallopt").map { unsafeBitCast($0, to: Option.self) }

    private static func symbol(_ name: String) -> UnsafeMutableRawPointer? {
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), name)
    }
    #endif

    /// The allocator settings of the daemon, each applied unless the operator set its environment variable
    /// (`MALLOC_MMAP_THRESHOLD_`, `MALLOC_ARENA_MAX`; mallopt(3)):
    /// - a fixed mmap threshold of 128 KiB (glibc's initial one): blocks that large never come from the heap,
    ///   so a reload's transient parse is unmapped whole instead of leaving holes (1,000 reloads of 100,000
    ///   machines: +0.4% instead of +5.9%);
    /// - two malloc arenas instead of up to eight per core: the event loops, Dispatch and the Swift pool
    ///   otherwise each keep freed memory in arenas of their own (README, Performance: peak RSS).
    public static func configureAllocator(environment: [String: String]) {
        #if canImport(Glibc)
        guard let option else { return }
        // M_MMAP_THRESHOLD is -3 and M_ARENA_MAX is -8 in <malloc.h>.
        if environment["MALLOC_MMAP_THRESHOLD_"] == nil { _ = option(-3, 128 * 1024) }
        if environment["MALLOC_ARENA_MAX"] == nil { _ = option(-8, 2) }
        #endif
    }

    /// Gives freed heap pages back to the kernel now (after a config load, in the caller's thread).
    public static func now() {
        #if canImport(Glibc)
        _ = trim?(0)
        #endif
    }

    /// Gives freed heap pages back to the kernel in the background (after READY=1 or a reload).
    static func soon() {
        #if canImport(Glibc)
        guard trim != nil else { return }
        DispatchQueue.global(qos: .utility).async { now() }
        #endif
    }
}
