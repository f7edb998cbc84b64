/// Counts open TCP connections (HTTP and WebSocket alike: each holds a file descriptor and
/// lws state) in total and per peer address, and decides what a new one gets. Pure: the
/// transport feeds it addresses; tests feed it strings.
///
/// A connection over a cap is still accepted, so that its first request can be answered
/// politely (HTTP 503 over the total, 429 over the per-address cap, with `Retry-After`), and
/// then closed. Only past a headroom beyond the cap, where answering would itself cost too
/// much, is a new TCP connection closed at once without an answer.
public struct ConnectionLimiter: Sendable {
    /// What a new connection gets.
    public enum Admission: Equatable, Sendable {
        /// Served normally.
        case admitted
        /// Answered 503 and closed: the server holds its total of connections.
        case overTotal
        /// Answered 429 and closed: this address holds its share of connections.
        case overAddress
        /// Closed at once, unanswered: too far past a cap to spend anything on it.
        case drop
    }

    /// The most connections in total.
    public let maxConnections: Int
    /// The most connections from one address (one IPv4 address or one IPv6 /64).
    public let maxConnectionsPerAddress: Int
    private(set) var total = 0
    private var perAddress: [String: Int] = [:]

    /// Makes a limiter with the two caps (each at least 1).
    public init(maxConnections: Int, maxConnectionsPerAddress: Int) {
        self.maxConnections = max(1, maxConnections)
        self.maxConnectionsPerAddress = max(1, maxConnectionsPerAddress)
    }

    /// Connections past the total cap that are still answered (1/16 of the cap, 16 to 1024).
    public var totalHeadroom: Int { min(1024, max(16, maxConnections / 16)) }
    /// Connections past the per-address cap that are still answered (as many as the cap, 8 to 256).
    public var addressHeadroom: Int { min(256, max(8, maxConnectionsPerAddress)) }

    /// The connections open now.
    public var openConnections: Int { total }

    /// The connections open now from `address`.
    public func connections(from address: String) -> Int { perAddress[address] ?? 0 }

    /// Whether a connection from `address` would be closed unanswered (asked before accepting).
    public func shouldDrop(_ address: String) -> Bool {
        total >= maxConnections + totalHeadroom
            || connections(from: address) >= maxConnectionsPerAddress + addressHeadroom
    }

    /// Counts a new connection from `address` and says what it gets. A `.drop` is not counted;
    /// every other answer must be matched by one `closed(_:)`.
    public mutating func opened(_ address: String) -> Admission {
        if shouldDrop(address) { return .drop }
        let fromAddress = connections(from: address)
        let admission: Admission
        if total >= maxConnections {
            admission = .overTotal
        } else if fromAddress >= maxConnectionsPerAddress {
            admission = .overAddress
        } else {
            admission = .admitted
        }
        total += 1
        perAddress[address] = fromAddress + 1
        return admission
    }

    /// Counts a new connection from a trusted proxy, whose client is known only once its
    /// request's `X-Forwarded-For` arrives (`attribute(_:)`): only the total cap applies now.
    /// A `.drop` is not counted; every other answer must be matched by one `closed(nil)`, or,
    /// after `attribute`, by `closed` with that address.
    public mutating func openedUnattributed() -> Admission {
        if total >= maxConnections + totalHeadroom { return .drop }
        total += 1
        return total > maxConnections ? .overTotal : .admitted
    }

    /// Charges a counted but unattributed connection (`openedUnattributed`) to its client's
    /// `address` and says whether that address is over its cap (`.overAddress`: answer 429 and
    /// close) or not (`.admitted`).
    public mutating func attribute(_ address: String) -> Admission {
        let fromAddress = connections(from: address)
        perAddress[address] = fromAddress + 1
        return fromAddress >= maxConnectionsPerAddress ? .overAddress : .admitted
    }

    /// Moves a connection's charge from `address` back to unattributed (a proxy's keep-alive
    /// connection carries the next request, perhaps for another client).
    public mutating func unattribute(_ address: String) {
        guard let count = perAddress[address] else { return }
        perAddress[address] = count > 1 ? count - 1 : nil
    }

    /// Forgets one connection from `address` (nil: one never attributed to an address).
    public mutating func closed(_ address: String?) {
        guard let address else {
            if total > 0 { total -= 1 }
            return
        }
        guard let count = perAddress[address] else { return }
        total -= 1
        perAddress[address] = count > 1 ? count - 1 : nil
    }
}
