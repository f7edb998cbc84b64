#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// C copies of Swift strings that live as long as this object: libwebsockets keeps pointers to
/// the context's strings for the whole life of the context, and copies a connect call's
/// strings during the call.
final class CStrings {
    private var pointers: [UnsafeMutablePointer<CChar>] = []

    init() {}

    deinit {
        for pointer in pointers { free(pointer) }
    }

    /// A C copy of `string`, freed with this object.
    func keep(_ string: String) -> UnsafeMutablePointer<CChar> {
        let copy = strdup(string)!
        pointers.append(copy)
        return copy
    }

    /// A C copy of `string`, or nil for nil.
    func keep(_ string: String?) -> UnsafePointer<CChar>? {
        string.map { UnsafePointer(keep($0)) }
    }
}
