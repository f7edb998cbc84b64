#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Network addresses as the logs may show them (docs/PRIVACY.md, Logs): never whole. An IPv4
/// address keeps its /24 network (`192.0.2.0/24`), an IPv6 address its /48 (`2001:db8:1::/48`),
/// enough to tell one office from another and nothing about the person.
enum PeerAddress {
    /// The truncated form of one address (`1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`,
    /// `[2001:db8::1]:443`, `2001:db8::/64`); `unknown` for anything else.
    static func truncated(_ text: String) -> String {
        var address = text
        if address.hasPrefix("[") , let close = address.firstIndex(of: "]") {
            address = String(address[address.index(after: address.startIndex)..<close])
        }
        if let slash = address.firstIndex(of: "/") { address = String(address[..<slash]) }
        if let v4 = ipv4(address) ?? ipv4(withoutPort: address) { return "\(v4[0]).\(v4[1]).\(v4[2]).0/24" }
        var v6 = in6_addr()
        guard address.contains(":"), inet_pton(AF_INET6, address, &v6) == 1 else { return "unknown" }
        var bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            return "\(bytes[12]).\(bytes[13]).\(bytes[14]).0/24"
        }
        for index in 6..<16 { bytes[index] = 0 }
        withUnsafeMutableBytes(of: &v6) { $0.copyBytes(from: bytes) }
        var out = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        guard inet_ntop(AF_INET6, &v6, &out, socklen_t(out.count)) != nil else { return "unknown" }
        return String(cString: out) + "/48"
    }

    /// A free-text line (libwebsockets' own log) with every address in it truncated.
    static func redacted(_ line: String) -> String {
        var out = ""
        var token = ""
        func flush() {
            guard !token.isEmpty else { return }
            let looksLikeAddress = token.filter { $0 == "." }.count == 3 || token.filter { $0 == ":" }.count >= 2
            if looksLikeAddress, token.unicodeScalars.allSatisfy({ $0.properties.isASCIIHexDigit || ".:[]/".unicodeScalars.contains($0) }) {
                let truncated = truncated(token)
                out += truncated == "unknown" ? token : truncated
            } else {
                out += token
            }
            token = ""
        }
        for character in line {
            if character.isLetter || character.isNumber || ".:[]/".contains(character) {
                token.append(character)
            } else {
                flush()
                out.append(character)
            }
        }
        flush()
        return out
    }

    private static func ipv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        let bytes = parts.compactMap { $0.count <= 3 && $0.allSatisfy(\.isASCII) ? UInt8($0) : nil }
        return bytes.count == 4 ? bytes : nil
    }

    private static func ipv4(withoutPort text: String) -> [UInt8]? {
        guard let colon = text.lastIndex(of: ":"), text.filter({ $0 == ":" }).count == 1,
              UInt16(text[text.index(after: colon)...]) != nil else { return nil }
        return ipv4(String(text[..<colon]))
    }
}
