import CQRencode
import StellingCore

/// A QR code symbol made by libqrencode (ISO/IEC 18004), and its SVG drawing. The only file
/// that calls libqrencode.
public struct QRCode: Equatable, Sendable {
    /// Modules per side.
    public let size: Int
    /// Whether each module is dark, row by row from the top left.
    public let modules: [Bool]

    /// Encodes `text` as bytes (8-bit mode) at error correction level M (15% of the symbol may be
    /// covered or damaged), the smallest version that holds it; `nil` when it does not fit (over
    /// 2,331 bytes) or libqrencode fails.
    public init?(text: String) {
        guard let code = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M) else { return nil }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width)
        guard width > 0, let data = code.pointee.data else { return nil }
        size = width
        // Bit 0 of each byte is the module's colour (1 = dark); the other bits say what the module is for.
        modules = (0..<width * width).map { data[$0] & 1 == 1 }
    }

    /// Whether the module at `row`, `column` is dark.
    public func isDark(row: Int, column: Int) -> Bool { modules[row * size + column] }

    /// The symbol as a standalone SVG image: black modules on white with the 4-module quiet zone
    /// the standard asks for, one path of horizontal runs, crisp edges, `moduleSize` pixels a
    /// module as its intrinsic size (it scales without loss).
    public func svg(moduleSize: Int = 8, title: String? = nil) -> String {
        let quiet = 4
        let side = size + 2 * quiet
        var path = ""
        for row in 0..<size {
            var column = 0
            while column < size {
                guard isDark(row: row, column: column) else { column += 1; continue }
                var end = column
                while end < size, isDark(row: row, column: end) { end += 1 }
                path += "M\(column + quiet) \(row + quiet)h\(end - column)v1h-\(end - column)z"
                column = end
            }
        }
        let pixels = side * moduleSize
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(pixels)\" height=\"\(pixels)\" viewBox=\"0 0 \(side) \(side)\""
        svg += " shape-rendering=\"crispEdges\" role=\"img\""
        if let title { svg += " aria-label=\"\(TextRules.markupEscaped(title))\"" }
        svg += ">"
        if let title { svg += "<title>\(TextRules.markupEscaped(title))</title>" }
        svg += "<rect width=\"\(side)\" height=\"\(side)\" fill=\"#fff\"/><path fill=\"#000\" d=\"\(path)\"/></svg>\n"
        return svg
    }
}

/// The participant page's address for the join code (PROTOCOL.md, Revision 2, HTTP additions).
public enum JoinAddress {
    /// `public_url` when configured; otherwise the scheme this server serves and the `Host` the
    /// browser used, with the path `/`. `nil` when there is neither a configured address nor a
    /// usable `Host` header (missing, or with characters no host name or address has).
    public static func resolve(publicURL: String?, host: String?, secure: Bool) -> String? {
        if let publicURL { return publicURL }
        guard let host, !host.isEmpty, host.utf8.count <= 255,
              host.unicodeScalars.allSatisfy({ $0.isASCII && (isHostCharacter($0)) }) else { return nil }
        return "\(secure ? "https" : "http")://\(host)/"
    }

    private static func isHostCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", ".", "-", ":", "[", "]": true
        default: false
        }
    }
}
