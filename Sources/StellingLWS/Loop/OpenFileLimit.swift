#if canImport(Glibc)
import Glibc
private let rlimitNoFile = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
#elseif canImport(Darwin)
import Darwin
private let rlimitNoFile = RLIMIT_NOFILE
#endif

/// Raises the soft limit on open files to the hard limit (an unlimited hard limit capped at
/// 2^20): libwebsockets sizes its fd table from the soft limit when a context is created.
/// Returns the old soft limit when it could not be raised, nil otherwise.
@discardableResult
func raiseOpenFileLimit() -> UInt64? {
    var limit = rlimit()
    guard getrlimit(rlimitNoFile, &limit) == 0, limit.rlim_cur < limit.rlim_max else { return nil }
    let previous = limit.rlim_cur
    limit.rlim_cur = limit.rlim_max == rlim_t.max ? max(previous, 1 << 20) : limit.rlim_max
    return setrlimit(rlimitNoFile, &limit) == 0 ? nil : UInt64(previous)
}
