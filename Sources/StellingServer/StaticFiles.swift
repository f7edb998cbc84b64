import Foundation
#if canImport(Glibc)
import Glibc
private let systemRead = Glibc.read
#elseif canImport(Darwin)
import Darwin
private let systemRead = Darwin.read
#endif

/// Maps request paths to files under the web root (or built in) and files to content types.
public enum StaticFiles {
    /// Files larger than this are not served (the pages are small; this is not a file server).
    static let maxFileBytes = 32 << 20

    /// The file, relative to the web root, that serves `path`; nil when the path may not be
    /// served (hidden files, "..", empty segments, backslashes, NUL).
    static func relativePath(for path: String) -> String? {
        switch path {
        case "/", "/index.html": return "index.html"
        case "/moderator": return "moderator.html"
        case "/screen": return "screen.html"
        default: break
        }
        guard path.hasPrefix("/"), !path.contains("\0"), !path.contains("\\") else { return nil }
        let segments = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        guard !segments.isEmpty else { return nil }
        for segment in segments where segment.isEmpty || segment.hasPrefix(".") {
            return nil
        }
        return segments.joined(separator: "/")
    }

    /// The Content-Type for a file name, by its extension.
    static func contentType(for fileName: String) -> String {
        let lower = fileName.lowercased()
        guard let dot = lower.lastIndex(of: ".") else { return "application/octet-stream" }
        switch lower[lower.index(after: dot)...] {
        case "html", "htm": return "text/html; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "js", "mjs": return "text/javascript; charset=utf-8"
        case "json": return "application/json"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "jpg", "jpeg": return "image/jpeg"
        case "ico": return "image/x-icon"
        case "woff2": return "font/woff2"
        case "woff": return "font/woff"
        case "txt": return "text/plain; charset=utf-8"
        case "csv": return "text/csv; charset=utf-8"
        case "webmanifest": return "application/manifest+json"
        default: return "application/octet-stream"
        }
    }

    /// The pages built into the binary (EmbeddedWeb), decoded once, by path relative to web/.
    static let embedded: [String: [UInt8]] = EmbeddedWeb.files.mapValues { content in
        switch content {
        case let .text(text): Array(text.utf8)
        case let .base64(text): Array(Data(base64Encoded: text) ?? Data())
        }
    }

    /// The file at `relativePath`: under `root` when one is configured, else built in.
    static func file(root: String?, relativePath: String) -> [UInt8]? {
        guard let root else { return embedded[relativePath] }
        return read(root: root, relativePath: relativePath)
    }

    /// Why `root` cannot be the web root (it has no index.html), or nil when it can.
    public static func webRootProblem(_ root: String) -> String? {
        read(root: root, relativePath: "index.html") == nil
            ? "the web_root \(root) has no index.html; remove web_root to serve the pages built into the binary"
            : nil
    }

    /// Reads a regular file whole; nil when it is missing, not a regular file, or too large.
    static func read(root: String, relativePath: String) -> [UInt8]? {
        let fd = open(root + "/" + relativePath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG,
              info.st_size <= maxFileBytes else { return nil }
        let size = Int(info.st_size)
        var bytes = [UInt8](repeating: 0, count: size)
        var filled = 0
        let ok = bytes.withUnsafeMutableBytes { buffer -> Bool in
            while filled < size {
                let n = systemRead(fd, buffer.baseAddress! + filled, size - filled)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                filled += n
            }
            return true
        }
        return ok ? bytes : nil
    }
}
