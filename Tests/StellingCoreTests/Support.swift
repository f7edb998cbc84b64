@testable import StellingCore

/// A deterministic random number generator (SplitMix64) so ids and tokens repeat per test.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64 = 42) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// One event as it reached one connection.
struct Delivery: Equatable {
    var to: ConnectionID
    var event: Event
}

/// A room driven like the shell drives it: effects carried out at once (every record is durable
/// immediately), broadcasts resolved to the connections admitted when they were made.
struct Harness {
    var room: Room
    var random = SeededRandom()
    var clock = Instant(milliseconds: 1_610_715_600_000) // 2021-01-15T13:00:00Z
    var records: [Record] = []
    var closed: [(ConnectionID, CloseCode)] = []
    private var nextConnection: UInt64 = 1

    static let key = "moderator-secret-key"

    init(_ configuration: Configuration = Harness.configuration()) {
        room = Room(configuration: configuration)
    }

    static func configuration(groups: [String] = ["Rijk", "Provincie", "Gemeente"], statements: Int = 3) -> Configuration {
        Configuration(
            title: "Leren samen werken aan opgaven",
            programme: [ProgrammeItem(time: "14:00", item: "Welkom")],
            groups: groups,
            statements: (1...max(1, statements)).prefix(statements).map { StatementSpec(id: "s\($0)", text: "Stelling \($0)") },
            moderatorKey: key)
    }

    mutating func connection() -> ConnectionID {
        defer { nextConnection += 1 }
        return ConnectionID(nextConnection)
    }

    mutating func advance(milliseconds: Int64) { clock.milliseconds += milliseconds }

    /// Sends raw JSON text from a connection and returns what was delivered to whom.
    mutating func send(_ json: String, from connection: ConnectionID) -> [Delivery] {
        let effects = room.receive(Array(json.utf8), from: connection, now: clock, random: &random)
        return carryOut(effects)
    }

    mutating func tick() -> [Delivery] { carryOut(room.tick(now: clock)) }

    mutating func carryOut(_ effects: [Effect]) -> [Delivery] {
        var deliveries: [Delivery] = []
        for effect in effects {
            switch effect {
            case let .send(connection, event):
                deliveries.append(Delivery(to: connection, event: event))
            case let .broadcast(event, audience):
                for connection in room.recipients(of: audience, admittedUpTo: room.admissions).sorted() {
                    deliveries.append(Delivery(to: connection, event: event))
                }
            case let .persist(record, then):
                records.append(record)
                deliveries += carryOut(then)
            case let .close(connection, code):
                closed.append((connection, code))
                room.disconnect(connection)
            }
        }
        return deliveries
    }

    /// Joins a participant on a new connection and returns the connection and its welcome.
    mutating func participant(_ name: String = "Anna", group: String? = nil) -> (ConnectionID, Welcome) {
        let connection = connection()
        let groupField = group.map { ",\"group\":\"\($0)\"" } ?? ""
        let deliveries = send("{\"type\":\"join\",\"name\":\"\(name)\"\(groupField)}", from: connection)
        guard case let .welcome(welcome, _)? = deliveries.first(where: { $0.to == connection })?.event else {
            fatalError("no welcome for \(name): \(deliveries)")
        }
        return (connection, welcome)
    }

    mutating func moderator(_ name: String = "Ruben") -> ConnectionID {
        let connection = connection()
        let deliveries = send("{\"type\":\"join\",\"role\":\"moderator\",\"key\":\"\(Harness.key)\",\"name\":\"\(name)\"}", from: connection)
        guard case .welcome? = deliveries.first?.event else { fatalError("moderator not welcomed: \(deliveries)") }
        return connection
    }

    mutating func screen() -> ConnectionID {
        let connection = connection()
        let deliveries = send("{\"type\":\"join\",\"role\":\"screen\"}", from: connection)
        guard case .welcome? = deliveries.first?.event else { fatalError("screen not welcomed: \(deliveries)") }
        return connection
    }
}

extension [Delivery] {
    /// The events one connection received, in order.
    func to(_ connection: ConnectionID) -> [Event] { filter { $0.to == connection }.map(\.event) }

    /// The error codes one connection received.
    func errors(to connection: ConnectionID) -> [ErrorCode] {
        to(connection).compactMap {
            switch $0 {
            case let .error(code, _, _): code
            case .rateLimited: .rateLimited
            default: nil
            }
        }
    }

    /// The connections that received an event matching `predicate`.
    func recipients(where predicate: (Event) -> Bool) -> Set<ConnectionID> {
        Set(filter { predicate($0.event) }.map(\.to))
    }
}

extension Event {
    var isTally: Bool { if case .tally = self { true } else { false } }
    var tallyValue: Tally? { if case let .tally(tally) = self { tally } else { nil } }
    var isPresence: Bool { if case .presence = self { true } else { false } }
    var isStatement: Bool { if case .statement = self { true } else { false } }
    var isChat: Bool { if case .chat = self { true } else { false } }
}
