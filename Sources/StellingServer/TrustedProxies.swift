#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address as its bytes (4 or 16). IPv4-mapped IPv6 addresses
/// (`::ffff:192.0.2.7`) are IPv4 addresses here.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// The address in network order: 4 bytes for IPv4, 16 for IPv6.
    public let bytes: [UInt8]

    /// Parses "192.0.2.7", "2001:db8::1", "[2001:db8::1]" or "::ffff:192.0.2.7"; nil for anything else.
    public init?(_ text: some StringProtocol) {
        var text = String(text)
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        if text.contains(":") {
            var address = in6_addr()
            guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
            self.init(bytes: withUnsafeBytes(of: &address) { Array($0) })
        } else {
            var address = in_addr()
            // inet_pton takes only the dotted quad, not inet_aton's "1", "0x7f.1" or "127.1".
            guard inet_pton(AF_INET, text, &address) == 1 else { return nil }
            self.init(bytes: withUnsafeBytes(of: &address) { Array($0) })
        }
    }

    /// An address from its 4 or 16 bytes (an IPv4-mapped IPv6 address becomes IPv4).
    public init(bytes: [UInt8]) {
        precondition(bytes.count == 4 || bytes.count == 16, "an IP address has 4 or 16 bytes")
        if bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            self.bytes = Array(bytes[12..<16])
        } else {
            self.bytes = bytes
        }
    }

    /// Whether this is an IPv4 address.
    public var isIPv4: Bool { bytes.count == 4 }

    /// The usual text: "192.0.2.7" or "2001:db8::1".
    public var description: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        var copy = bytes
        let family = isIPv4 ? AF_INET : AF_INET6
        guard inet_ntop(family, &copy, &text, socklen_t(text.count)) != nil else { return "unknown" }
        return String(cString: text)
    }

    /// The key under which per-address rules count this address: an IPv4 address itself
    /// ("192.0.2.7"), an IPv6 address's /64 ("2001:db8:1:2::/64"), since one subscriber
    /// usually holds a whole /64.
    public var limitKey: String {
        if isIPv4 { return description }
        var network = bytes
        for index in 8..<16 { network[index] = 0 }
        return IPAddress(bytes: network).description + "/64"
    }
}

/// An address range in CIDR notation ("10.0.0.0/8", "fd00::/8"), or one address ("::1").
public struct AddressRange: Hashable, Sendable, CustomStringConvertible {
    /// The range's first address (host bits cleared).
    public let network: IPAddress
    /// The number of leading bits that must match.
    public let prefixLength: Int

    /// Parses "ADDRESS" or "ADDRESS/BITS"; nil when either part is not valid.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2, let address = IPAddress(parts[0]) else { return nil }
        let maximum = address.bytes.count * 8
        var length = maximum
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].allSatisfy(\.isASCIIDigit), parts[1].count <= 3,
                  let bits = Int(parts[1]) else { return nil }
            // "::ffff:10.0.0.0/104" is an IPv4 range written in IPv6: keep its IPv4 bits.
            let mappedIPv4 = address.isIPv4 && parts[0].contains(":")
            length = mappedIPv4 ? bits - 96 : bits
            guard (0...maximum).contains(length) else { return nil }
        }
        self.prefixLength = length
        self.network = IPAddress(bytes: AddressRange.masked(address.bytes, length))
    }

    /// Whether `address` lies in the range (an IPv4 address never lies in an IPv6 range).
    public func contains(_ address: IPAddress) -> Bool {
        address.bytes.count == network.bytes.count && AddressRange.masked(address.bytes, prefixLength) == network.bytes
    }

    /// "10.0.0.0/8".
    public var description: String { "\(network)/\(prefixLength)" }

    private static func masked(_ bytes: [UInt8], _ length: Int) -> [UInt8] {
        var bytes = bytes
        for index in bytes.indices {
            let keep = min(8, max(0, length - index * 8))
            bytes[index] &= keep == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
        }
        return bytes
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

/// Who is believed about the client's address (`trusted_proxies`). Pure.
///
/// From a trusted peer the client is the right-most address in `X-Forwarded-For` that is not
/// itself trusted (each proxy appends the address it received the request from, so the
/// addresses right of that one were written by proxies we trust, and the ones left of it by
/// the client, who may write anything). From any other peer the header is ignored.
public struct TrustedProxies: Hashable, Sendable {
    /// The trusted ranges.
    public let ranges: [AddressRange]

    /// Loopback only: `127.0.0.0/8` and `::1` (nginx on the same machine). The default.
    public static let loopback = TrustedProxies(ranges: [AddressRange("127.0.0.0/8")!, AddressRange("::1")!])
    /// Nobody: `X-Forwarded-For` is always ignored (`trusted_proxies: []`).
    public static let none = TrustedProxies(ranges: [])

    /// Trusts the given ranges.
    public init(ranges: [AddressRange]) {
        self.ranges = ranges
    }

    /// Parses addresses and CIDR ranges; throws naming the first entry that is neither.
    public init(parsing entries: [String]) throws(InvalidAddressRange) {
        var ranges: [AddressRange] = []
        for entry in entries {
            let trimmed = entry.strippingBlanks()
            guard let range = AddressRange(trimmed) else { throw InvalidAddressRange(entry: entry) }
            ranges.append(range)
        }
        self.init(ranges: ranges)
    }

    /// Whether `address` is a trusted proxy.
    public func trusts(_ address: IPAddress) -> Bool {
        ranges.contains { $0.contains(address) }
    }

    /// The client's address for a connection from `peer` that carried `forwardedFor` (the
    /// `X-Forwarded-For` header's value, several headers joined by ","), or nil without one.
    ///
    /// From an untrusted peer: the peer. From a trusted peer: the right-most listed address
    /// that is not trusted; when every listed address is trusted, the left-most one (the
    /// request began inside the trusted network); when there is no header, or an entry that
    /// is not an address is reached before an untrusted one, the last address believed so far
    /// (the peer itself when nothing could be believed).
    public func client(peer: IPAddress, forwardedFor: String?) -> IPAddress {
        guard trusts(peer), let forwardedFor else { return peer }
        var believed = peer
        for entry in forwardedFor.split(separator: ",").reversed() {
            guard let address = TrustedProxies.address(in: entry) else { return believed }
            believed = address
            if !trusts(address) { return address }
        }
        return believed
    }

    /// The address in one `X-Forwarded-For` entry: "192.0.2.7", "192.0.2.7:4711",
    /// "2001:db8::1", "[2001:db8::1]:4711" (some proxies add the port), blanks around.
    static func address(in entry: Substring) -> IPAddress? {
        let text = String(entry).strippingBlanks()
        if let address = IPAddress(text) { return address }
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            return IPAddress(text[text.index(after: text.startIndex)..<close])
        }
        // IPv4 with a port: exactly one colon.
        if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            let address = IPAddress(text[..<colon])
            return address?.isIPv4 == true ? address : nil
        }
        return nil
    }
}

/// A `trusted_proxies` entry that is neither an address nor a CIDR range.
public struct InvalidAddressRange: Error, Equatable, CustomStringConvertible {
    /// The entry as written.
    public var entry: String
    /// For people.
    public var description: String {
        "\"\(entry)\" is not an IP address or CIDR range (such as 10.0.0.0/8 or fd00::/8)"
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    func strippingBlanks() -> String {
        var scalars = Substring(self)
        while scalars.first == " " || scalars.first == "\t" { scalars.removeFirst() }
        while scalars.last == " " || scalars.last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
