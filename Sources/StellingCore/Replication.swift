/// Issue 16: one event served by several nodes. Every node appends what its clients ask to one
/// ordered log (a Redis stream in the shell) and applies every entry of that log, its own and the
/// others', to its own `Room` in the log's order. The room is deterministic, so every node's room
/// is the same; the node that holds a connection sends it its answers (docs/SCALING.md).
///
/// Everything here is a value: the entries, their binary form, and the generator that gives every
/// node the same "random" ids for an entry.

/// A connection's number across the cluster: the node's number in the high bits, the node's own
/// connection number in the low `localBits`. A single server is node 0, so its numbers do not change.
public enum ClusterConnection {
    /// Bits of a node's own connection numbers (a trillion connections per node run).
    public static let localBits: UInt64 = 40

    /// The cluster-wide number of a node's connection.
    public static func global(_ local: ConnectionID, node: UInt32) -> ConnectionID {
        ConnectionID(UInt64(node) << localBits | (local.rawValue & localMask))
    }

    /// The node a cluster-wide connection number belongs to.
    public static func node(of connection: ConnectionID) -> UInt32 { UInt32(truncatingIfNeeded: connection.rawValue >> localBits) }

    /// The node's own number for a cluster-wide connection number.
    public static func local(_ connection: ConnectionID) -> ConnectionID { ConnectionID(connection.rawValue & localMask) }

    static let localMask: UInt64 = (1 << localBits) - 1
}

/// One thing a node puts in the event's log for the others.
public struct ReplicatedEntry: Equatable, Sendable {
    /// What happened.
    public enum Body: Equatable, Sendable {
        /// A client's message other than `join`, as the client sent it (it decoded).
        case request([UInt8])
        /// A `join`, with its secrets replaced by what the other nodes may know.
        case join(ReplicatedJoin)
        /// The connection closed.
        case closed
        /// A node began serving under `connection`'s node number, named `name`: connections of an
        /// earlier run of the same name are gone.
        case nodeStarted(name: String)
        /// A node stopped answering (its heartbeat expired): its connections are gone.
        case nodeGone(node: UInt32)
    }

    /// The cluster-wide connection (for `nodeStarted`, any connection number of the node).
    public var connection: ConnectionID
    /// What happened.
    public var body: Body

    /// Makes an entry.
    public init(connection: ConnectionID, body: Body) {
        self.connection = connection
        self.body = body
    }
}

/// A `join` as it travels between nodes. The node that received it checked the moderator key and
/// hashed the resume token; a new participant's token is made there too and only its hash travels,
/// so no secret is ever in the log.
public struct ReplicatedJoin: Equatable, Sendable {
    /// The role asked for.
    public var role: Role
    /// The name as sent.
    public var name: String?
    /// The group as sent.
    public var group: String?
    /// A moderator's key matched the event's key (checked by the receiving node).
    public var keyVerified: Bool
    /// The SHA-256 (hex) of the resume token sent, if any.
    public var resumeHash: String?
    /// The SHA-256 (hex) of the token a new participant gets.
    public var newTokenHash: String
    /// The request's `ref`.
    public var ref: String?

    /// Makes a join.
    public init(role: Role, name: String?, group: String?, keyVerified: Bool, resumeHash: String?, newTokenHash: String, ref: String?) {
        self.ref = ref
        self.role = role
        self.name = name
        self.group = group
        self.keyVerified = keyVerified
        self.resumeHash = resumeHash
        self.newTokenHash = newTokenHash
    }
}

/// The secrets only the receiving node knows: they go into its own client's welcome.
public struct JoinSecrets: Equatable, Sendable {
    /// The resume token the client sent.
    public var resumeToken: String?
    /// The token made for a new participant (its hash is in the `ReplicatedJoin`).
    public var newToken: String

    /// Makes the secrets of one join.
    public init(resumeToken: String?, newToken: String) {
        self.resumeToken = resumeToken
        self.newToken = newToken
    }
}

/// A batch of entries from one node: one log entry. `sequence` counts the node's batches, so an
/// entry appended twice (a retry after a lost reply) is applied once.
public struct ReplicatedBatch: Equatable, Sendable {
    /// The node's number.
    public var node: UInt32
    /// The node's batch number, from 1, without gaps within one node run.
    public var sequence: UInt64
    /// The entries in the order the node received them.
    public var entries: [ReplicatedEntry]

    /// Makes a batch.
    public init(node: UInt32, sequence: UInt64, entries: [ReplicatedEntry]) {
        self.node = node
        self.sequence = sequence
        self.entries = entries
    }

    static let magic: [UInt8] = Array("SB1".utf8)

    /// The batch's bytes (the log entry's payload).
    public func encoded() -> [UInt8] {
        var out = ReplicationWriter()
        out.bytes.append(contentsOf: ReplicatedBatch.magic)
        out.u32(node)
        out.u64(sequence)
        out.u32(UInt32(entries.count))
        for entry in entries {
            switch entry.body {
            case let .request(bytes):
                out.u8(1); out.u64(entry.connection.rawValue); out.data(bytes)
            case let .join(join):
                out.u8(2); out.u64(entry.connection.rawValue)
                out.u8(join.role == .moderator ? 1 : join.role == .screen ? 2 : 0)
                out.u8(join.keyVerified ? 1 : 0)
                out.optional(join.name); out.optional(join.group); out.optional(join.resumeHash)
                out.data(Array(join.newTokenHash.utf8)); out.optional(join.ref)
            case .closed:
                out.u8(3); out.u64(entry.connection.rawValue)
            case let .nodeStarted(name):
                out.u8(4); out.u64(entry.connection.rawValue); out.data(Array(name.utf8))
            case let .nodeGone(node):
                out.u8(5); out.u64(entry.connection.rawValue); out.u32(node)
            }
        }
        return out.bytes
    }

    /// Reads a batch; nil when the bytes are not one (every node skips it alike).
    public init?(decoding bytes: [UInt8]) {
        var reader = ReplicationReader(bytes: bytes)
        guard reader.take(3) == ReplicatedBatch.magic, let node = reader.u32(), let sequence = reader.u64(),
              let count = reader.u32(), Int(count) <= bytes.count else { return nil }
        var entries: [ReplicatedEntry] = []
        entries.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let kind = reader.u8(), let connection = reader.u64().map(ConnectionID.init) else { return nil }
            switch kind {
            case 1:
                guard let data = reader.data() else { return nil }
                entries.append(ReplicatedEntry(connection: connection, body: .request(data)))
            case 2:
                guard let role = reader.u8(), role <= 2, let verified = reader.u8(),
                      let name = reader.optional(), let group = reader.optional(), let resume = reader.optional(),
                      let hash = reader.data(), let ref = reader.optional() else { return nil }
                let join = ReplicatedJoin(role: role == 1 ? .moderator : role == 2 ? .screen : .participant,
                                          name: name, group: group, keyVerified: verified == 1, resumeHash: resume,
                                          newTokenHash: String(decoding: hash, as: UTF8.self), ref: ref)
                entries.append(ReplicatedEntry(connection: connection, body: .join(join)))
            case 3:
                entries.append(ReplicatedEntry(connection: connection, body: .closed))
            case 4:
                guard let name = reader.data() else { return nil }
                entries.append(ReplicatedEntry(connection: connection, body: .nodeStarted(name: String(decoding: name, as: UTF8.self))))
            case 5:
                guard let gone = reader.u32() else { return nil }
                entries.append(ReplicatedEntry(connection: connection, body: .nodeGone(node: gone)))
            default:
                return nil
            }
        }
        guard reader.atEnd else { return nil }
        self.init(node: node, sequence: sequence, entries: entries)
    }
}

/// SplitMix64: the generator every node seeds alike for one log entry, so the ids a request makes
/// (a participant's id, an erasure's replacement) are the same on every node. Not for secrets.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The state; the next number derives from it.
    public var state: UInt64

    /// Starts at `seed`.
    public init(seed: UInt64) { state = seed }

    /// The generator for entry `index` of the log entry with id `milliseconds`-`sequence`.
    public init(milliseconds: UInt64, sequence: UInt64, index: Int) {
        var mixer = SplitMix64(seed: milliseconds)
        let first = mixer.next()
        mixer.state ^= sequence
        let second = mixer.next()
        state = first ^ second ^ (UInt64(index) &* 0xD1B5_4A32_D192_ED03)
    }

    /// The next 64 bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}

struct ReplicationWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func data(_ value: [UInt8]) { u32(UInt32(value.count)); bytes.append(contentsOf: value) }
    mutating func optional(_ value: String?) {
        guard let value else { return u8(0) }
        u8(1); data(Array(value.utf8))
    }
}

struct ReplicationReader {
    let bytes: [UInt8]
    var offset = 0

    var atEnd: Bool { offset == bytes.count }

    mutating func take(_ count: Int) -> [UInt8]? {
        guard count >= 0, bytes.count - offset >= count else { return nil }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    mutating func u8() -> UInt8? { take(1).map { $0[0] } }
    mutating func u32() -> UInt32? { take(4).map { $0.reversed().reduce(0) { $0 << 8 | UInt32($1) } } }
    mutating func u64() -> UInt64? { take(8).map { $0.reversed().reduce(0) { $0 << 8 | UInt64($1) } } }
    mutating func data() -> [UInt8]? { u32().flatMap { take(Int($0)) } }
    mutating func optional() -> String?? {
        guard let flag = u8() else { return nil }
        if flag == 0 { return .some(nil) }
        guard flag == 1, let data = data() else { return nil }
        return .some(String(decoding: data, as: UTF8.self))
    }
}
